// The HTTP server's shared state (HttpServer::Core), private to the server's
// files: http_server.cpp reads and dispatches requests, write_path.cpp
// writes their answers. Lock order: a Connection's mutex, then
// registry_mutex or flight_mutex; never two Connections' at once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include <pistache/listener.h>
#include <pistache/peer.h>

#include "idle_trim.h"
#include "server/admission.h"
#include "server/connection.h"
#include "server/http_server.h"
#include "server/thread_pool.h"

namespace dicomd {

using PeerPtr = std::shared_ptr<Pistache::Tcp::Peer>;
using ConnectionPtr = std::shared_ptr<Connection>;

// What a write handed to Pistache's queue finishes.
// What a queued write is: interim bytes, the last bytes of a reply, or a
// part of a file body (more follows, from continue_stream).
enum class WriteKind { kInterim, kReplyKeepAlive, kReplyClose, kFileChunk };

struct HttpServer::Core {
  Core(HttpServerOptions o, RequestHandler h, Precheck p);

  HttpServerOptions options;
  RequestHandler handler;
  Precheck precheck;
  Admission admission;
  std::unique_ptr<ThreadPool> pool;  // reset in stop(), while everything its jobs use is alive
  Pistache::Tcp::Listener listener;
  std::atomic<bool> draining{false};
  std::atomic<bool> stopping{false};
  std::atomic<bool> reactors_stopped{false};

  std::mutex registry_mutex;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;
  std::unordered_map<std::string, size_t> connections_per_client;  // by peer address

  std::mutex flight_mutex;
  std::condition_variable flight_done;
  size_t in_flight = 0;  // requests received and not yet answered, plus running handler jobs
  uint64_t flights_begun = 0;
  IdleTrim idle_trim;  // reaper thread only

  std::thread reaper;
  uint32_t id_prefix = 0;
  std::atomic<uint64_t> id_counter{0};

  // --- reading and dispatching (http_server.cpp) ---
  std::string next_request_id();
  void flight_begin();
  void flight_end();
  // Runs the parser over buffered input and dispatches complete requests.
  // `on_reactor`: called from the connection's reactor thread, the only one
  // that may read its socket.
  void pump(const ConnectionPtr& conn, const PeerPtr& peer, bool on_reactor = false) DICOMD_REQUIRES(conn->mutex);
  void dispatch(const ConnectionPtr& conn, const PeerPtr& peer, http::Request request, Clock::time_point received_at)
      DICOMD_REQUIRES(conn->mutex);
  // True when a connection closed, or was dropped, since a request of it was queued.
  static bool connection_gone(const std::weak_ptr<Connection>& conn);
  // Closes idle keep-alive connections, stalled or too slow requests and
  // replies the peer does not read.
  void reap();
  // Returns freed memory after a quiet second (idle_trim.h).
  void trim_when_idle();
  void reap_one(Connection& c, Clock::time_point now) DICOMD_REQUIRES(c.mutex);
  bool body_too_slow(const Connection& c, Clock::time_point now) const DICOMD_REQUIRES(c.mutex);
  // Registers a new connection; false when it is over a connection limit.
  bool admit_connection(const ConnectionPtr& conn);
  void forget_connection(const ConnectionPtr& conn);

  // --- writing (write_path.cpp) ---
  void begin_request(Connection& c) DICOMD_REQUIRES(c.mutex);
  void settle(Connection& c) DICOMD_REQUIRES(c.mutex);
  void reply_and_close(const ConnectionPtr& conn, const PeerPtr& peer, int status, const std::string& message,
                       bool retry_later = false) DICOMD_REQUIRES(conn->mutex);
  void reply_and_close(const ConnectionPtr& conn, const PeerPtr& peer, const http::Response& response)
      DICOMD_REQUIRES(conn->mutex);
  void send_interim(const ConnectionPtr& conn, const PeerPtr& peer, std::string bytes) DICOMD_REQUIRES(conn->mutex);
  void write_reply(const ConnectionPtr& conn, const PeerPtr& peer, const http::Response& response, bool keep_alive,
                   std::string_view id, bool head) DICOMD_REQUIRES(conn->mutex);
  void queue_write(const ConnectionPtr& conn, const PeerPtr& peer, std::string bytes, WriteKind kind)
      DICOMD_REQUIRES(conn->mutex);
  void start_stream(const ConnectionPtr& conn, const PeerPtr& peer, std::string head_bytes,
                    std::shared_ptr<const http::FileBody> file, bool keep_alive) DICOMD_REQUIRES(conn->mutex);
  bool continue_stream(const ConnectionPtr& conn, const PeerPtr& peer) DICOMD_REQUIRES(conn->mutex);
  void drop_stream(Connection& c) DICOMD_REQUIRES(c.mutex);
  void later_after_write(const std::weak_ptr<Connection>& conn, const std::weak_ptr<Pistache::Tcp::Peer>& peer,
                         WriteKind kind, bool ok);
  void after_write(const std::weak_ptr<Connection>& conn, const std::weak_ptr<Pistache::Tcp::Peer>& peer,
                   WriteKind kind, bool ok);
};

}  // namespace dicomd
