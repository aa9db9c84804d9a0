// The write side of the HTTP server: answers go straight to the socket when
// nothing is queued before them, the rest through Pistache's write queue;
// a request settles (stops being in flight) once its answer is written.
#include "server/http_core.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "log.h"

namespace dicomd {

// Marks a connection busy with one request; counted until settle().
void HttpServer::Core::begin_request(Connection& c) {
  c.busy = true;
  flight_begin();
}

// The request's reply was written (or the peer went away): not busy any
// more. Idempotent, so a write result after a disconnection is harmless.
void HttpServer::Core::settle(Connection& c) {
  admission.release(c.reservation);
  if (!c.busy) return;
  c.busy = false;
  c.last_activity = c.head_started = Clock::now();  // a pipelined head's deadline starts now
  flight_end();
}

// Replies outside any handler (parse errors, draining, admission) and closes.
void HttpServer::Core::reply_and_close(const ConnectionPtr& conn, const PeerPtr& peer, int status,
                                       const std::string& message, bool retry_later) {
  http::Response r;
  r.json(status, http::json_error(message));
  if (retry_later) r.header("Retry-After", "1");
  reply_and_close(conn, peer, r);
}

void HttpServer::Core::reply_and_close(const ConnectionPtr& conn, const PeerPtr& peer, const http::Response& response) {
  begin_request(*conn);
  write_reply(conn, peer, response, false, "", false);
}

// Interim bytes ("100 Continue") that must reach the peer before the reply.
void HttpServer::Core::send_interim(const ConnectionPtr& conn, const PeerPtr& peer, std::string bytes) {
  size_t sent = conn->queued_writes == 0 ? send_now(*conn, bytes, {}) : 0;
  if (sent == SIZE_MAX || sent == bytes.size()) return;  // a dead peer shows up on the next read
  queue_write(conn, peer, bytes.substr(sent), WriteKind::kInterim);
}

// Writes a reply straight to the socket when nothing is queued before it
// (no thread switch, no copy of the body); what the socket does not take
// at once goes through Pistache's write queue, and the request settles
// when that is written.
void HttpServer::Core::write_reply(const ConnectionPtr& conn, const PeerPtr& peer, const http::Response& response,
                                   bool keep_alive, std::string_view id, bool head) {
  bool keep = keep_alive && !response.close && !draining;
  if (!peer || conn->closed) {
    settle(*conn);
    return;
  }
  std::string head_bytes = http::serialize_head(response, keep, id);
  if (response.file && http::has_body(response.status) && !head) {
    start_stream(conn, peer, std::move(head_bytes), response.file, keep);
    return;
  }
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

namespace {

// A file body goes out in chunks read as the socket takes them: a client
// that reads slowly holds one chunk of memory, never the whole file.
constexpr size_t kFileChunkBytes = 256 << 10;

bool read_at(int fd, std::string& into, uint64_t offset) {
  size_t done = 0;
  while (done < into.size()) {
    ssize_t n = ::pread(fd, into.data() + done, into.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // an error, or the file shrank under us
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

void HttpServer::Core::start_stream(const ConnectionPtr& conn, const PeerPtr& peer, std::string head_bytes,
                                    std::shared_ptr<const http::FileBody> file, bool keep_alive) {
  uint64_t begin = file->offset, end = file->offset + file->length;
  conn->stream = FileStream{std::move(file), begin, end, keep_alive};
  if (!keep_alive) conn->closing = true;
  size_t sent = conn->queued_writes == 0 ? send_now(*conn, head_bytes, {}) : 0;
  if (sent == SIZE_MAX) return drop_stream(*conn);
  if (sent < head_bytes.size())
    queue_write(conn, peer, head_bytes.substr(sent), WriteKind::kFileChunk);
  else
    continue_stream(conn, peer);
}

// Sends what the socket takes at once, queues the rest of one chunk, and
// comes back from after_write when that is written. True when the reply is
// complete and settled (the caller may go on with a pipelined request).
bool HttpServer::Core::continue_stream(const ConnectionPtr& conn, const PeerPtr& peer) {
  FileStream& s = *conn->stream;
  while (conn->queued_writes == 0 && s.next < s.end) {
    std::string chunk(std::min<uint64_t>(s.end - s.next, kFileChunkBytes), '\0');
    if (!read_at(s.file->fd, chunk, s.next)) {
      log::error("dicomd", "a file body could not be read while being sent; connection dropped");
      drop_stream(*conn);
      return false;
    }
    s.next += chunk.size();
    size_t sent = send_now(*conn, chunk, {});
    if (sent == SIZE_MAX) {
      drop_stream(*conn);
      return false;
    }
    if (sent < chunk.size()) {
      chunk.erase(0, sent);
      queue_write(conn, peer, std::move(chunk), WriteKind::kFileChunk);
    }
  }
  if (conn->queued_writes != 0) return false;
  bool keep = s.keep_alive;
  conn->stream.reset();
  settle(*conn);
  if (!keep) graceful_close(*conn);
  return keep;
}

// The headers promised bytes that will not come: the client must see the
// connection end, not wait for them.
void HttpServer::Core::drop_stream(Connection& c) {
  c.stream.reset();
  settle(c);
  hard_close(c);
}

void HttpServer::Core::queue_write(const ConnectionPtr& conn, const PeerPtr& peer, std::string bytes, WriteKind kind) {
  ++conn->queued_writes;
  // The peer must take these bytes within write_timeout plus their size at
  // min_send_bytes_per_s, else the reaper drops the connection.
  auto deadline = Clock::now() + options.write_timeout +
                  std::chrono::milliseconds(bytes.size() * 1000 / std::max<uint64_t>(options.min_send_bytes_per_s, 1));
  conn->write_deadline = std::max(conn->write_deadline, deadline);
  std::weak_ptr<Connection> weak_conn = conn;
  std::weak_ptr<Pistache::Tcp::Peer> weak_peer = peer;
  size_t n = bytes.size();
  peer->send(Pistache::RawBuffer(std::move(bytes), n))
      .then([this, weak_conn, weak_peer, kind](ssize_t) { later_after_write(weak_conn, weak_peer, kind, true); },
            [this, weak_conn, weak_peer, kind](std::exception_ptr) {
              later_after_write(weak_conn, weak_peer, kind, false);
            });
}

// Write results may arrive on the reactor thread while it is inside pump()
// with the connection's mutex held (Pistache settles a write that fails at
// once, e.g. to a peer that has gone, from within the same write-queue
// pass): handle them on a handler thread, never inline.
void HttpServer::Core::later_after_write(const std::weak_ptr<Connection>& weak_conn,
                                         const std::weak_ptr<Pistache::Tcp::Peer>& weak_peer, WriteKind kind, bool ok) {
  if (reactors_stopped) {  // no reactor left to hold a mutex up the stack; the pool is going away
    after_write(weak_conn, weak_peer, kind, ok);
    return;
  }
  pool->post([this, weak_conn, weak_peer, kind, ok] { after_write(weak_conn, weak_peer, kind, ok); });
}

void HttpServer::Core::after_write(const std::weak_ptr<Connection>& weak_conn,
                                   const std::weak_ptr<Pistache::Tcp::Peer>& weak_peer, WriteKind kind, bool ok) {
  auto conn = weak_conn.lock();
  if (!conn) return;
  auto peer = weak_peer.lock();
  MutexLock lock(conn->mutex);
  --conn->queued_writes;
  if (ok && (kind == WriteKind::kInterim || kind == WriteKind::kFileChunk) && conn->stream) {
    if (!peer || conn->closed) return drop_stream(*conn);
    if (continue_stream(conn, peer) && !conn->closed) pump(conn, peer);  // a pipelined request may be waiting
    return;
  }
  if (kind == WriteKind::kInterim && ok) return;
  conn->stream.reset();
  settle(*conn);
  if (kind != WriteKind::kReplyKeepAlive || !ok)
    graceful_close(*conn);
  else if (peer && !conn->closed)
    pump(conn, peer);  // a pipelined request may be waiting
}

}  // namespace dicomd
