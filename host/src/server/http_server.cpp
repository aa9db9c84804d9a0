#include "server/http_server.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>

#include <pistache/listener.h>
#include <pistache/peer.h>
#include <pistache/tcp.h>

#include "server/thread_pool.h"

namespace dicomd {
namespace {

using Clock = std::chrono::steady_clock;
using Pistache::Tcp::Peer;

constexpr auto kClosingGrace = std::chrono::seconds(2);
constexpr const char* kConnectionKey = "dicomd.connection";

// What a write handed to Pistache's queue finishes.
enum class WriteKind { kInterim, kReplyKeepAlive, kReplyClose };

// Per-connection state. Guarded by `mutex`: input arrives on a reactor
// thread, replies complete on handler and reactor threads.
struct Connection {
  explicit Connection(http::ParserLimits limits) : parser(limits) {}
  std::mutex mutex;
  std::weak_ptr<Peer> peer;
  int fd = -1;
  http::RequestParser parser;
  bool busy = false;            // a request is being handled; later ones wait (pipelining)
  bool closing = false;         // a final reply was sent; input is discarded
  bool closed = false;          // Pistache reported the disconnection; fd is not ours
  uint64_t reserved_bytes = 0;  // body memory admitted for the current request
  bool counted_upload = false;  // the current request counts against max_uploads
  int queued_writes = 0;        // writes handed to Pistache's queue, not yet settled
  Clock::time_point last_activity = Clock::now();
};

}  // namespace

struct HttpServer::Core {
  Core(HttpServerOptions o, RequestHandler h)
      : options(std::move(o)), handler(std::move(h)), pool(std::make_unique<ThreadPool>(options.handler_threads)) {
    std::random_device rd;
    id_prefix = rd();
  }

  HttpServerOptions options;
  RequestHandler handler;
  std::unique_ptr<ThreadPool> pool;  // reset in stop(), while everything its jobs use is alive
  Pistache::Tcp::Listener listener;
  std::atomic<bool> draining{false};
  std::atomic<bool> stopping{false};
  std::atomic<bool> reactors_stopped{false};

  std::mutex registry_mutex;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;

  std::atomic<uint64_t> body_bytes_held{0};
  std::atomic<size_t> uploads_in_flight{0};

  std::mutex flight_mutex;
  std::condition_variable flight_done;
  size_t in_flight = 0;

  std::thread reaper;
  uint32_t id_prefix = 0;
  std::atomic<uint64_t> id_counter{0};

  // "<8 hex digits of this run>-<counter>", formatted without printf (it
  // was 5 % of a cached tag lookup's instructions).
  std::string next_request_id() {
    char buf[32];
    char* end = buf + 8;
    uint32_t prefix = id_prefix;
    for (char* p = end; p-- != buf; prefix >>= 4) *p = "0123456789abcdef"[prefix & 0xf];
    *end++ = '-';
    end = std::to_chars(end, buf + sizeof buf, ++id_counter).ptr;
    return std::string(buf, end);
  }

  void flight_begin() {
    std::lock_guard lock(flight_mutex);
    ++in_flight;
  }
  void flight_end() {
    std::lock_guard lock(flight_mutex);
    --in_flight;
    flight_done.notify_all();
  }

  // Shuts the socket down so that Pistache sees the end and closes it. Only
  // while `closed` is false: after that the fd number may belong to another.
  static void hard_close(Connection& c) {
    if (!c.closed) ::shutdown(c.fd, SHUT_RDWR);
  }
  // Ends our side after the reply; the client closes, Pistache then closes.
  // SHUT_WR, not SHUT_RDWR: unread input would turn close into a reset that
  // can destroy the reply before the client reads it.
  static void graceful_close(Connection& c) {
    c.closing = true;
    c.last_activity = Clock::now();
    if (!c.closed) ::shutdown(c.fd, SHUT_WR);
  }

  // Interim bytes ("100 Continue") that must reach the peer before the reply.
  // Called with conn->mutex held.
  void send_interim(const std::shared_ptr<Connection>& conn, const std::shared_ptr<Peer>& peer, std::string bytes) {
    size_t sent = conn->queued_writes == 0 ? send_now(*conn, bytes, {}) : 0;
    if (sent == SIZE_MAX || sent == bytes.size()) return;  // a dead peer shows up on the next read
    queue_write(conn, peer, bytes.substr(sent), WriteKind::kInterim);
  }

  // Marks a connection busy with one request; counted until settle().
  void begin_request(Connection& c) {
    c.busy = true;
    flight_begin();
  }
  // The request's reply was written (or the peer went away): not busy any
  // more. Idempotent, so a write result after a disconnection is harmless.
  // Called with c.mutex held.
  void settle(Connection& c) {
    release_admission(c);
    if (!c.busy) return;
    c.busy = false;
    c.last_activity = Clock::now();
    flight_end();
  }

  // Admits a request whose head was just parsed, or says why not.
  // Called with c.mutex held.
  std::optional<std::string> admit(Connection& c, uint64_t body_bytes) {
    if (body_bytes == 0) return std::nullopt;
    bool upload = body_bytes >= options.upload_bytes;
    if (upload && uploads_in_flight.fetch_add(1) >= options.max_uploads) {
      --uploads_in_flight;
      return "too many uploads at once; retry shortly";
    }
    if (body_bytes_held.fetch_add(body_bytes) + body_bytes > options.max_body_memory) {
      body_bytes_held -= body_bytes;
      if (upload) --uploads_in_flight;
      return "the server holds too much request data; retry shortly";
    }
    c.reserved_bytes = body_bytes;
    c.counted_upload = upload;
    return std::nullopt;
  }
  void release_admission(Connection& c) {
    body_bytes_held -= c.reserved_bytes;
    c.reserved_bytes = 0;
    if (c.counted_upload) --uploads_in_flight;
    c.counted_upload = false;
  }

  // Replies outside any handler (parse errors, draining, admission) and closes.
  // Called with conn->mutex held.
  void reply_and_close(const std::shared_ptr<Connection>& conn, const std::shared_ptr<Peer>& peer, int status,
                       const std::string& message, bool retry_later = false) {
    http::Response r;
    r.json(status, http::json_error(message));
    if (retry_later) r.header("Retry-After", "1");
    begin_request(*conn);
    write_reply(conn, peer, r, false, "", false);
  }

  // Runs the parser over buffered input and dispatches complete requests;
  // requests answered at once on this thread let the loop go on to the next
  // pipelined one. `on_reactor`: called from the connection's reactor thread,
  // the only one that may read its socket. Called with conn->mutex held.
  void pump(const std::shared_ptr<Connection>& conn, const std::shared_ptr<Peer>& peer, bool on_reactor = false) {
    while (!conn->busy && !conn->closing) {
      switch (conn->parser.next()) {
        case http::RequestParser::Event::kNeedMore:
          // Pistache reads 4 KiB at a time; the rest of a body is read here
          // directly into the request, in large chunks (Pistache's next
          // read then finds the socket empty, or closed).
          if (on_reactor && receive_body_now(*conn) > 0) continue;
          return;
        case http::RequestParser::Event::kHead:
          if (auto refusal = admit(*conn, conn->parser.declared_body_bytes())) {
            reply_and_close(conn, peer, 503, *refusal, true);
            return;
          }
          continue;
        case http::RequestParser::Event::kContinue:
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
          dispatch(conn, peer, conn->parser.take());
          continue;
      }
    }
  }

  size_t receive_body_now(Connection& c) {
    if (c.closed) return 0;
    return c.parser.receive_body([fd = c.fd](char* into, size_t max) -> size_t {
      while (true) {
        ssize_t n = ::recv(fd, into, max, MSG_DONTWAIT);
        if (n >= 0) return static_cast<size_t>(n);
        if (errno != EINTR) return 0;  // EAGAIN: nothing more now; errors are Pistache's to see
      }
    });
  }

  // Tries the handler on this (I/O) thread first; when it would block, runs
  // it on a handler thread. Called with conn->mutex held.
  void dispatch(const std::shared_ptr<Connection>& conn, const std::shared_ptr<Peer>& peer, http::Request request) {
    begin_request(*conn);
    std::string id = next_request_id();
    bool head = request.method == "HEAD";
    bool keep_alive = request.keep_alive;
    auto reply_here = [&](http::Response&& response) { write_reply(conn, peer, response, keep_alive, id, head); };
    Deferred later = handler(request, id, reply_here);
    if (!later) return;

    flight_begin();  // the handler job itself, until it returns
    std::weak_ptr<Connection> weak_conn = conn;
    std::weak_ptr<Peer> weak_peer = peer;
    pool->post([this, weak_conn, weak_peer, id, head, keep_alive, later = std::move(later)] {
      auto reply = [&](http::Response&& response) {
        auto conn = weak_conn.lock();
        if (!conn) return;
        auto peer = weak_peer.lock();
        std::lock_guard lock(conn->mutex);
        write_reply(conn, peer, response, keep_alive, id, head);
        if (peer && !conn->closed) pump(conn, peer);  // a pipelined request may be waiting
      };
      later(reply);
      flight_end();
    });
  }

  // Writes a reply straight to the socket when nothing is queued before it
  // (no thread switch, no copy of the body); what the socket does not take
  // at once goes through Pistache's write queue, and the request settles
  // when that is written. Called with conn->mutex held.
  void write_reply(const std::shared_ptr<Connection>& conn, const std::shared_ptr<Peer>& peer,
                   const http::Response& response, bool keep_alive, std::string_view id, bool head) {
    bool keep = keep_alive && !response.close && !draining;
    if (!peer || conn->closed) {
      settle(*conn);
      return;
    }
    std::string head_bytes = http::serialize_head(response, keep, id);
    std::string_view body = http::has_body(response.status) && !head ? std::string_view(response.body) : "";
    size_t sent = conn->queued_writes == 0 ? send_now(*conn, head_bytes, body) : 0;
    if (sent == SIZE_MAX) {  // the peer is gone
      settle(*conn);
      hard_close(*conn);
      return;
    }
    if (sent == head_bytes.size() + body.size()) {
      settle(*conn);
      if (!keep) graceful_close(*conn);
      return;
    }
    if (!keep) conn->closing = true;
    std::string rest;
    if (sent < head_bytes.size()) {
      rest.reserve(head_bytes.size() - sent + body.size());
      rest.append(head_bytes, sent);
      rest.append(body);
    } else {
      rest.assign(body.substr(sent - head_bytes.size()));
    }
    queue_write(conn, peer, std::move(rest), keep ? WriteKind::kReplyKeepAlive : WriteKind::kReplyClose);
  }

  // Bytes written without blocking, or SIZE_MAX when the socket failed.
  static size_t send_now(const Connection& c, std::string_view head, std::string_view body) {
    iovec parts[2] = {{const_cast<char*>(head.data()), head.size()}, {const_cast<char*>(body.data()), body.size()}};
    msghdr msg{};
    msg.msg_iov = parts;
    msg.msg_iovlen = body.empty() ? 1 : 2;
    while (true) {
      ssize_t n = ::sendmsg(c.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : SIZE_MAX;
    }
  }

  void queue_write(const std::shared_ptr<Connection>& conn, const std::shared_ptr<Peer>& peer, std::string bytes,
                   WriteKind kind) {
    ++conn->queued_writes;
    std::weak_ptr<Connection> weak_conn = conn;
    std::weak_ptr<Peer> weak_peer = peer;
    size_t n = bytes.size();
    peer->send(Pistache::RawBuffer(std::move(bytes), n))
        .then([this, weak_conn, weak_peer, kind](ssize_t) { later_after_write(weak_conn, weak_peer, kind, true); },
              [this, weak_conn, weak_peer, kind](std::exception_ptr) {
                later_after_write(weak_conn, weak_peer, kind, false);
              });
  }

  // Write results may arrive on the reactor thread while it is inside
  // pump() with the connection's mutex held (Pistache settles a write that
  // fails at once, e.g. to a peer that has gone, from within the same
  // write-queue pass): handle them on a handler thread, never inline.
  void later_after_write(const std::weak_ptr<Connection>& weak_conn, const std::weak_ptr<Peer>& weak_peer,
                         WriteKind kind, bool ok) {
    if (reactors_stopped) {  // no reactor left to hold a mutex up the stack; the pool is going away
      after_write(weak_conn, weak_peer, kind, ok);
      return;
    }
    pool->post([this, weak_conn, weak_peer, kind, ok] { after_write(weak_conn, weak_peer, kind, ok); });
  }

  void after_write(const std::weak_ptr<Connection>& weak_conn, const std::weak_ptr<Peer>& weak_peer, WriteKind kind,
                   bool ok) {
    auto conn = weak_conn.lock();
    if (!conn) return;
    auto peer = weak_peer.lock();
    std::lock_guard lock(conn->mutex);
    --conn->queued_writes;
    if (kind == WriteKind::kInterim && ok) return;
    settle(*conn);
    if (kind != WriteKind::kReplyKeepAlive || !ok)
      graceful_close(*conn);
    else if (peer && !conn->closed)
      pump(conn, peer);  // a pipelined request may be waiting
  }

  // Closes idle keep-alive connections and stalled requests.
  void reap() {
    std::vector<std::shared_ptr<Connection>> all;
    {
      std::lock_guard lock(registry_mutex);
      for (auto& [ptr, weak] : connections)
        if (auto c = weak.lock()) all.push_back(std::move(c));
    }
    auto now = Clock::now();
    for (auto& c : all) {
      std::lock_guard lock(c->mutex);
      if (c->closed || c->busy) continue;
      auto idle = now - c->last_activity;
      if (c->closing) {
        if (idle > kClosingGrace) hard_close(*c);
      } else if (c->parser.in_progress()) {
        if (idle > options.header_timeout) hard_close(*c);
      } else if (draining || idle > options.keepalive_timeout) {
        hard_close(*c);
      }
    }
  }
};

namespace {

// Pistache clones this handler once per reactor thread; all clones share
// the one Core, which outlives the listener.
class PistacheHandler : public Pistache::Tcp::Handler {
 public:
  explicit PistacheHandler(HttpServer::Core* core) : core_(core) {}

  std::shared_ptr<Pistache::Tcp::Handler> clone() const override { return std::make_shared<PistacheHandler>(core_); }

  void onConnection(const std::shared_ptr<Peer>& peer) override {
    auto conn = std::make_shared<Connection>(core_->options.limits);
    conn->peer = peer;
    conn->fd = peer->fd();
    peer->putData(kConnectionKey, conn);
    {
      std::lock_guard lock(core_->registry_mutex);
      core_->connections[conn.get()] = conn;
    }
    if (core_->draining) ::shutdown(conn->fd, SHUT_RDWR);
  }

  void onDisconnection(const std::shared_ptr<Peer>& peer) override {
    auto conn = connection(peer);
    if (!conn) return;
    {
      std::lock_guard lock(conn->mutex);
      conn->closed = true;
      core_->settle(*conn);  // a reply that can no longer be written is done
    }
    std::lock_guard lock(core_->registry_mutex);
    core_->connections.erase(conn.get());
  }

  void onInput(const char* buffer, size_t len, const std::shared_ptr<Peer>& peer) override {
    auto conn = connection(peer);
    if (!conn) return;
    std::lock_guard lock(conn->mutex);
    if (conn->closing) return;  // discard what follows a final reply
    conn->last_activity = Clock::now();
    conn->parser.feed(std::string_view(buffer, len));
    core_->pump(conn, peer, true);
  }

 private:
  static std::shared_ptr<Connection> connection(const std::shared_ptr<Peer>& peer) {
    return std::static_pointer_cast<Connection>(peer->tryGetData(kConnectionKey));
  }
  HttpServer::Core* core_;
};

}  // namespace

HttpServer::HttpServer(HttpServerOptions options, RequestHandler handler)
    : core_(std::make_shared<Core>(std::move(options), std::move(handler))) {}

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
