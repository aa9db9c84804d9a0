// From a parsed request to its answer: route once, run the request filters,
// call the route's handler, then the after-answer hooks. Independent of the
// socket layer, so the in-process test host (tests/support/test_host.h)
// drives the same code as the server.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <dicomd/http.h>

#include "http/request.h"
#include "ops/metrics.h"
#include "http/response.h"
#include "plugins/loaded_plugin.h"
#include "server/reply.h"
#include "server/router.h"

namespace dicomd {

struct RouteTarget {
  LoadedPlugin* plugin = nullptr;  // a plugin's route...
  dicomd_handler_fn handler = nullptr;
  std::function<http::Response()> builtin;     // ...or one of the host's own
  bool quick = false;                          // may run on the I/O thread (DICOMD_ROUTE_QUICK)
  std::string pattern;                         // "/files/:study/:file", as declared
  std::vector<std::string> media_types;        // of request bodies it accepts, lower-case; empty: any
  std::shared_ptr<metrics::RouteStats> stats;  // set by add_route
  std::string doc;                             // OpenAPI operation (JSON) the owner gave, or empty
};

// "Multipart/Form-Data, application/dicom" -> {"multipart/form-data",
// "application/dicom"}; null -> {}.
std::vector<std::string> parse_media_types(const char* list);

class Dispatcher {
 public:
  // Throws PluginError on a route declared twice or by two plugins.
  void add_route(const std::string& method, const std::string& pattern, const std::string& owner, RouteTarget target);
  // Mounts every route of `plugins` (in this order) and keeps their filters
  // and after-answer hooks, which run in the order of `config_order`.
  void mount(const std::vector<LoadedPlugin*>& plugins, const std::vector<LoadedPlugin*>& config_order);

  // On the thread that read the request (may_block false): answers through
  // `reply` and returns an empty function, or moves the request into the
  // Deferred it returns, which answers it on a handler thread. The route is
  // matched once either way.
  Deferred accept(http::Request& request, const std::string& request_id, const Reply& reply);

  // For a client awaiting "100 Continue": the answer when no route takes
  // this method and path (404, or 405 with Allow) or the route does not
  // accept the body's Content-Type (415), else nullopt.
  std::optional<http::Response> precheck(const http::Request& head) const;

  struct MountedRoute {
    std::string method, pattern, owner;
    const RouteTarget* target;
  };
  std::vector<MountedRoute> routes() const;

  // Requests accepted and not yet answered (or dropped unanswered).
  uint64_t in_flight() const { return in_flight_->load(); }
  uint64_t answered() const { return answered_.load(); }
  // The request series of every route, then of requests no route took
  // (route label ""), for GET /metrics.
  void write_request_metrics(std::string& out) const;

 private:
  struct Routed;
  // Counts a request in flight from accept until its answer is counted
  // (release), or until the deferred job holding it is destroyed unrun.
  class InFlight {
   public:
    explicit InFlight(std::shared_ptr<std::atomic<uint64_t>> n) : count_(std::move(n)) { ++*count_; }
    ~InFlight() { release(); }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;
    void release() {
      if (count_) --*count_;
      count_.reset();
    }

   private:
    std::shared_ptr<std::atomic<uint64_t>> count_;
  };
  Router<RouteTarget>::Match match(const http::Request& request) const;
  // The answer, or nullopt when a quick handler or a filter would block.
  std::optional<http::Response> answer(const Routed& routed, const http::Request& request, const std::string& id,
                                       bool may_block, std::string& subject) const;
  void finish(const Routed& routed, const http::Request& request, const std::string& id, const Reply& reply,
              http::Response&& response, const std::string& subject, InFlight& in_flight) const;

  Router<RouteTarget> router_;
  mutable metrics::RouteStats unrouted_;
  // Shared with the deferred jobs, which may be dropped unrun (their
  // connection closed first): the guard they hold counts them down.
  std::shared_ptr<std::atomic<uint64_t>> in_flight_ = std::make_shared<std::atomic<uint64_t>>(0);
  mutable std::atomic<uint64_t> answered_{0};
  std::vector<LoadedPlugin*> filters_;  // with a request_filter, config order
  std::vector<LoadedPlugin*> after_;    // with an after_answer hook, config order
};

}  // namespace dicomd
