// The HTTP server: Pistache's TCP layer (listener, epoll reactors, writes)
// with the host's own HTTP/1.1 parser on top. This and http_server.cpp are
// the only files that include Pistache.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "http/request.h"
#include "http/request_parser.h"
#include "http/response.h"
#include "server/reply.h"

namespace dicomd {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (see HttpServer::port())
  size_t reactor_threads = 1;
  size_t handler_threads = 8;
  http::ParserLimits limits;
  std::chrono::milliseconds keepalive_timeout{5000};
  std::chrono::milliseconds header_timeout{10000};
  // Admission: a request whose body is at least upload_bytes counts as an
  // upload. Beyond max_uploads concurrent uploads, or max_body_memory bytes
  // of bodies held at once, a new one is answered 503 with Retry-After
  // before its body is read.
  uint64_t upload_bytes = 1 << 20;
  size_t max_uploads = 16;
  uint64_t max_body_memory = 2048ull << 20;
  uint64_t max_body_memory_per_client = 1024ull << 20;  // one client's share of it
  // Per client (docs/http.md, "Limits"): connections, input pipelined
  // behind a pending reply, a write deadline of write_timeout plus the
  // reply's size at min_send_rate, a body's minimum average rate once
  // header_timeout has passed (which is also the head's total deadline).
  size_t max_connections = 1024;
  size_t max_connections_per_client = 64;
  size_t max_pipelined_bytes = 64 << 10;
  std::chrono::milliseconds write_timeout{10000};
  uint64_t min_send_bytes_per_s = 64 << 10;
  uint64_t min_body_bytes_per_s = 16 << 10;
};

// Called on the I/O thread that read a request: answers it at once through
// `reply` (exactly once) and returns an empty Deferred, or returns the
// Deferred that answers it (it may move from `request`).
using RequestHandler =
    std::function<Deferred(http::Request& request, const std::string& request_id, const Reply& reply)>;
// Called with a request's head when the client waits for "100 Continue":
// an answer refuses the request before its body is sent (no route: 404/405).
using Precheck = std::function<std::optional<http::Response>(const http::Request& head)>;

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, RequestHandler handler, Precheck precheck = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving in background threads. Throws on bind failure.
  void start();
  uint16_t port() const;
  // Stops taking new requests: new connections are closed, idle ones too,
  // requests already received are still answered.
  void begin_drain();
  // Waits until no request is in flight; false on timeout.
  bool wait_idle(std::chrono::milliseconds timeout);
  void stop();

  struct Core;

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace dicomd
