#include "server/http_server.h"

#include <charconv>
#include <random>

#include "server/http_core.h"

namespace dicomd {
namespace {

constexpr auto kClosingGrace = std::chrono::seconds(2);
constexpr const char* kConnectionKey = "dicomd.connection";

}  // namespace

HttpServer::Core::Core(HttpServerOptions o, RequestHandler h, Precheck p)
    : options(std::move(o)),
      handler(std::move(h)),
      precheck(std::move(p)),
      admission(options.upload_bytes, options.max_uploads, options.max_body_memory, options.max_body_memory_per_client),
      pool(std::make_unique<ThreadPool>(options.handler_threads)) {
  std::random_device rd;
  id_prefix = rd();
}

// "<8 hex digits of this run>-<counter>", formatted without printf (it was
// 5 % of a cached tag lookup's instructions).
std::string HttpServer::Core::next_request_id() {
  char buf[32];
  char* end = buf + 8;
  uint32_t prefix = id_prefix;
  for (char* p = end; p-- != buf; prefix >>= 4) *p = "0123456789abcdef"[prefix & 0xf];
  *end++ = '-';
  end = std::to_chars(end, buf + sizeof buf, ++id_counter).ptr;
  return std::string(buf, end);
}

void HttpServer::Core::flight_begin() {
  std::lock_guard lock(flight_mutex);
  ++in_flight;
  ++flights_begun;
}

void HttpServer::Core::trim_when_idle() {
  uint64_t begun;
  bool busy;
  {
    std::lock_guard lock(flight_mutex);
    begun = flights_begun;
    busy = in_flight > 0;
  }
  idle_trim.tick(begun, busy, IdleTrim::Clock::now());
}

void HttpServer::Core::flight_end() {
  std::lock_guard lock(flight_mutex);
  --in_flight;
  flight_done.notify_all();
}

// Requests answered at once on this thread let the loop go on to the next
// pipelined one.
void HttpServer::Core::pump(const ConnectionPtr& conn, const PeerPtr& peer, bool on_reactor) {
  while (!conn->busy && !conn->closing) {
    switch (conn->parser.next()) {
      case http::RequestParser::Event::kNeedMore:
        if (on_reactor && receive_body_now(*conn) > 0) continue;
        return;
      case http::RequestParser::Event::kHead:
        if (auto refusal = admission.admit(conn->parser.declared_body_bytes(), conn->client, conn->reservation)) {
          reply_and_close(conn, peer, 503, *refusal, true);
          return;
        }
        conn->body_started = Clock::now();
        continue;
      case http::RequestParser::Event::kContinue:
        // "Send the body" only for a request something will take.
        if (precheck)
          if (auto refusal = precheck(conn->parser.head())) {
            reply_and_close(conn, peer, *refusal);
            return;
          }
        send_interim(conn, peer, "HTTP/1.1 100 Continue\r\n\r\n");
        continue;
      case http::RequestParser::Event::kError:
        reply_and_close(conn, peer, conn->parser.error_status(), conn->parser.error_message());
        return;
      case http::RequestParser::Event::kComplete:
        if (draining) {
          reply_and_close(conn, peer, 503, "server is shutting down");
          return;
        }
        dispatch(conn, peer, conn->parser.take(), conn->head_started);
        conn->head_started = Clock::now();  // a pipelined request after it starts no earlier
        continue;
    }
  }
}

namespace {

// A client's X-Request-Id is kept when it is a plain token (a proxy's or a
// load balancer's id, to follow one request across logs): 1 to 128 of
// letters, digits and "-_.:". Anything else could forge log lines or
// headers, and is replaced by one of ours.
bool sane_request_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
          c == '.' || c == ':'))
      return false;
  return true;
}

}  // namespace

// The dispatcher answers on this (I/O) thread, or hands back the work that
// answers on a handler thread.
void HttpServer::Core::dispatch(const ConnectionPtr& conn, const PeerPtr& peer, http::Request request,
                                Clock::time_point received_at) {
  begin_request(*conn);
  request.received_at = received_at;
  const std::string* given = request.header("x-request-id");
  std::string id = given && sane_request_id(*given) ? *given : next_request_id();
  bool head = request.method == "HEAD";
  bool keep_alive = request.keep_alive;
  auto reply_here = [&](http::Response&& response) DICOMD_NO_THREAD_SAFETY_ANALYSIS {
    write_reply(conn, peer, response, keep_alive, id, head);  // called before handler() returns: the lock is held
  };
  Deferred later = handler(request, id, reply_here);
  if (!later) return;

  flight_begin();  // the handler job itself, until it returns
  std::weak_ptr<Connection> weak_conn = conn;
  std::weak_ptr<Pistache::Tcp::Peer> weak_peer = peer;
  pool->post([this, weak_conn, weak_peer, id, head, keep_alive, later = std::move(later)] {
    // A request whose connection was dropped before a thread took it is not
    // run: nobody can read its answer, and a client that starts slow
    // requests and lets them be dropped must not fill the pool with them.
    if (connection_gone(weak_conn)) {
      flight_end();
      return;
    }
    auto reply = [&](http::Response&& response) {
      auto conn = weak_conn.lock();
      if (!conn) return;
      auto peer = weak_peer.lock();
      MutexLock lock(conn->mutex);
      write_reply(conn, peer, response, keep_alive, id, head);
      if (peer && !conn->closed) pump(conn, peer);  // a pipelined request may be waiting
    };
    later(reply);
    flight_end();
  });
}

bool HttpServer::Core::connection_gone(const std::weak_ptr<Connection>& weak_conn) {
  auto conn = weak_conn.lock();
  if (!conn) return true;
  MutexLock lock(conn->mutex);
  return conn->closed || conn->dropped;
}

void HttpServer::Core::reap() {
  std::vector<ConnectionPtr> all;
  {
    std::lock_guard lock(registry_mutex);
    for (auto& [ptr, weak] : connections)
      if (auto c = weak.lock()) all.push_back(std::move(c));
  }
  auto now = Clock::now();
  for (auto& c : all) {
    MutexLock lock(c->mutex);
    reap_one(*c, now);
  }
}

void HttpServer::Core::reap_one(Connection& c, Clock::time_point now) {
  if (c.closed) return;
  if (c.busy) {  // a reply the peer does not read is dropped at its deadline
    if (c.queued_writes > 0 && now > c.write_deadline) hard_close(c);
    return;
  }
  auto idle = now - c.last_activity;
  if (c.closing) {
    if (idle > kClosingGrace) hard_close(c);
  } else if (c.parser.in_body()) {
    if (idle > options.header_timeout || body_too_slow(c, now)) hard_close(c);
  } else if (c.parser.in_head()) {
    if (now - c.head_started > options.header_timeout) hard_close(c);  // a total deadline, not an idle one
  } else if (draining || idle > options.keepalive_timeout) {
    hard_close(c);
  }
}

// After header_timeout, a body must have come at min_body_bytes_per_s on
// average: a client trickling a byte now and then holds its admission
// (declared length) no longer than that.
bool HttpServer::Core::body_too_slow(const Connection& c, Clock::time_point now) const {
  auto elapsed = now - c.body_started;
  if (elapsed <= options.header_timeout) return false;
  double seconds = std::chrono::duration<double>(elapsed).count();
  return static_cast<double>(c.parser.body_received()) < seconds * static_cast<double>(options.min_body_bytes_per_s);
}

bool HttpServer::Core::admit_connection(const ConnectionPtr& conn) {
  std::lock_guard lock(registry_mutex);
  connections[conn.get()] = conn;
  size_t& from_client = ++connections_per_client[conn->client];
  return connections.size() <= options.max_connections && from_client <= options.max_connections_per_client;
}

void HttpServer::Core::forget_connection(const ConnectionPtr& conn) {
  std::lock_guard lock(registry_mutex);
  connections.erase(conn.get());
  auto it = connections_per_client.find(conn->client);
  if (it != connections_per_client.end() && --it->second == 0) connections_per_client.erase(it);
}

namespace {

using Pistache::Tcp::Peer;

// Pistache clones this handler once per reactor thread; all clones share
// the one Core, which outlives the listener.
class PistacheHandler : public Pistache::Tcp::Handler {
 public:
  explicit PistacheHandler(HttpServer::Core* core) : core_(core) {}

  std::shared_ptr<Pistache::Tcp::Handler> clone() const override { return std::make_shared<PistacheHandler>(core_); }

  void onConnection(const PeerPtr& peer) override {
    auto conn = std::make_shared<Connection>(core_->options.limits);
    conn->peer = peer;
    conn->fd = peer->fd();
    conn->client = peer->address().host();
    peer->putData(kConnectionKey, conn);
    // Over a limit, the connection is closed at once (it stays registered
    // until Pistache reports the disconnection, so the counts stay right).
    if (!core_->admit_connection(conn) || core_->draining) {
      MutexLock lock(conn->mutex);
      hard_close(*conn);
    }
  }

  void onDisconnection(const PeerPtr& peer) override {
    auto conn = connection(peer);
    if (!conn) return;
    {
      MutexLock lock(conn->mutex);
      conn->closed = true;
      core_->settle(*conn);  // a reply that can no longer be written is done
    }
    core_->forget_connection(conn);
  }

  void onInput(const char* buffer, size_t len, const PeerPtr& peer) override {
    auto conn = connection(peer);
    if (!conn) return;
    MutexLock lock(conn->mutex);
    if (conn->closing) return;  // discard what follows a final reply
    auto now = Clock::now();
    bool was_idle = !conn->parser.in_progress();
    conn->last_activity = now;
    conn->parser.feed(std::string_view(buffer, len));
    if (was_idle && conn->parser.in_progress()) conn->head_started = now;
    // What a client sends behind a request still being answered is held,
    // not parsed: up to max_pipelined_bytes, then the connection is closed
    // (else a client that never reads can grow the server without bound).
    if (conn->busy && conn->parser.buffered() > core_->options.max_pipelined_bytes) {
      hard_close(*conn);
      return;
    }
    core_->pump(conn, peer, true);
  }

 private:
  static ConnectionPtr connection(const PeerPtr& peer) {
    return std::static_pointer_cast<Connection>(peer->tryGetData(kConnectionKey));
  }
  HttpServer::Core* core_;
};

}  // namespace

HttpServer::HttpServer(HttpServerOptions options, RequestHandler handler, Precheck precheck)
    : core_(std::make_shared<Core>(std::move(options), std::move(handler), std::move(precheck))) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::start() {
  using Pistache::Tcp::Options;
  auto& o = core_->options;
  Pistache::Flags<Options> flags(Options::ReuseAddr);
  flags.setFlag(Options::NoDelay);
  flags.setFlag(Options::CloseOnExec);
  core_->listener.init(o.reactor_threads, flags);
  core_->listener.setHandler(std::make_shared<PistacheHandler>(core_.get()));
  core_->listener.bind(Pistache::Address(o.host, Pistache::Port(o.port)));
  core_->listener.runThreaded();
  core_->reaper = std::thread([core = core_.get()] {
    while (!core->stopping) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      core->reap();
      core->trim_when_idle();
    }
  });
}

uint16_t HttpServer::port() const {
  return static_cast<uint16_t>(core_->listener.getPort());
}

void HttpServer::begin_drain() {
  core_->draining = true;
}

bool HttpServer::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(core_->flight_mutex);
  return core_->flight_done.wait_for(lock, timeout, [this] { return core_->in_flight == 0; });
}

void HttpServer::stop() {
  if (core_->stopping.exchange(true)) return;
  if (core_->reaper.joinable()) core_->reaper.join();
  core_->listener.shutdown();
  core_->reactors_stopped = true;
  core_->pool.reset();  // runs the jobs still queued, then joins
}

}  // namespace dicomd
