// dicomd plugin SDK — header-only C++ layer over the C ABI (C++20, standard
// library only). A plugin is a class deriving from dicomd::Plugin that
// declares its metadata as static members, plus one DICOMD_PLUGIN(Class) line:
//
//   class Hello : public dicomd::Plugin {
//    public:
//     static constexpr const char* kName = "hello";
//     static constexpr const char* kVersion = "1.0.0";
//     static constexpr const char* kDescription = "says hello";
//     static constexpr std::array<dicomd_service_ref, 0> kProvides{};
//     static constexpr std::array<dicomd_service_ref, 0> kRequires{};
//     static constexpr auto routes() {  // a function: the class is complete in its body
//       return std::array{dicomd_route{"GET", "/hello", dicomd::route<&Hello::get>}};
//     }
//     Hello(dicomd::Host host, std::string_view config_json) : Plugin(host) {}
//     void get(const dicomd::Request&, dicomd::Response& res) { res.json(200, R"({"success":true})"); }
//   };
//   DICOMD_PLUGIN(Hello)
//
// Handlers may live on a member object: dicomd::route<&Hello::files_,
// &FileRoutes::list> calls files_.list(request, response).
//
// Optional members the descriptor picks up when the class declares them:
//   static constexpr auto route_flags()  one DICOMD_ROUTE_* value per route (1.1)
//   static constexpr auto route_media_types()  one const char* per route (1.3)
//   static constexpr auto route_docs()  one OpenAPI operation (JSON) per route (1.4)
//   static void check_config(std::string_view config_json)  throws on a bad
//       config, touching nothing: dicomd --check-config (1.4)
//   static dicomd_status isolated_job(std::string_view kind, std::string_view input, dicomd_sink out)
//       or, to see the job's W3C traceparent (1.6), the same with a fourth
//       parameter std::string_view traceparent
//   dicomd::FilterResult filter(const Request&, Response&)   a request filter (1.2)
//   void after_answer(const dicomd::RequestSummary&)          the after-answer hook (1.2)
// and a plugin subscribes to events in its constructor with subscribe(),
// and sets gauges before each scrape of GET /metrics with collect_metrics().
//
// Every call from the host into the plugin goes through an exception barrier:
// an exception is logged and turned into an error status, never propagated
// across the C boundary. docs/plugin-sdk.md walks through all of it.
#pragma once

#include <dicomd/host.h>
#include <dicomd/http.h>
#include <dicomd/abi_layout.h>
#include <dicomd/plugin.h>

#include <array>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "host.hpp"
#include "http.hpp"
#include "services.hpp"

#define DICOMD_EXPORT __attribute__((visibility("default")))

namespace dicomd {

// Base class of a plugin instance. Override what you need.
class Plugin {
 public:
  explicit Plugin(Host host) : host_(host) {}
  virtual ~Plugin() = default;
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;

  virtual void on_start() {}
  virtual void on_stop() {}
  // Readiness for GET /health; set `detail` to explain a "not ready".
  virtual bool ready(std::string& /*detail*/) { return true; }

  const Host& host() const { return host_; }

  // Only from the constructor (the host's init): calls fn(const Event&) on
  // the host's event thread for every event of `topic`. An exception thrown
  // by fn is logged and the event delivered again later: fn must be
  // idempotent. Throws when the host is older than ABI 1.2.
  // Only from the constructor: fn() runs before each scrape of GET
  // /metrics, to set gauges (ABI 1.4; nothing on an older host).
  void collect_metrics(std::function<void()> fn) {
    if (!host_.has_metrics()) return;
    auto& c = *collectors_.emplace_back(std::make_unique<Collector>(Collector{this, std::move(fn)}));
    if (host_.api()->metric_collector(host_.handle(), &Plugin::collect, &c) != DICOMD_OK)
      throw std::runtime_error("host refused the metrics collector");
  }

  void subscribe(const char* topic, std::function<void(const Event&)> fn) {
    if (!host_.has_events()) throw std::runtime_error("this dicomd host has no events (ABI 1.2 needed)");
    auto& sub = *subscriptions_.emplace_back(std::make_unique<Subscription>(Subscription{this, std::move(fn)}));
    if (host_.api()->subscribe(host_.handle(), topic, &Plugin::deliver, &sub) != DICOMD_OK)
      throw std::runtime_error(std::string("host refused the subscription to ") + topic);
  }

 private:
  struct Subscription {
    Plugin* plugin;
    std::function<void(const Event&)> fn;
  };
  static dicomd_status deliver(void* ctx, const dicomd_event* e) {
    auto* sub = static_cast<Subscription*>(ctx);
    try {
      sub->fn(Event{view(e->topic), view(e->key), view(e->payload), e->sequence, e->attempt});
      return DICOMD_OK;
    } catch (const std::exception& ex) {
      sub->plugin->host().warn("event " + std::string(view(e->topic)) + " " + std::string(view(e->key)) +
                               " not applied: " + ex.what());
    } catch (...) {
      sub->plugin->host().warn("event not applied: non-standard exception");
    }
    return DICOMD_E_INTERNAL;
  }

  struct Collector {
    Plugin* plugin;
    std::function<void()> fn;
  };
  static void collect(void* ctx) {
    auto* c = static_cast<Collector*>(ctx);
    try {
      c->fn();
    } catch (const std::exception& ex) {
      c->plugin->host().warn(std::string("metrics collector failed: ") + ex.what());
    } catch (...) {
      c->plugin->host().warn("metrics collector failed: non-standard exception");
    }
  }

  Host host_;
  std::vector<std::unique_ptr<Subscription>> subscriptions_;  // addresses handed to the host
  std::vector<std::unique_ptr<Collector>> collectors_;        // addresses handed to the host
};

// What a request filter decides (ABI 1.2).
enum class FilterResult { kContinue, kAnswered };

// What the after-answer hook sees (ABI 1.2).
struct RequestSummary {
  std::string_view method, route, request_id, subject;
  int status = 0;
  uint64_t bytes_in = 0, bytes_out = 0, duration_ns = 0;
  // The whole C summary: its trace, spans and log lines (ABI 1.6, when
  // has_trace()).
  const dicomd_request_summary* raw = nullptr;
  bool has_trace() const { return raw && DICOMD_HAS_FIELD(raw, dicomd_request_summary, plugin); }
};

namespace detail {

// Runs fn, converting any exception to a logged error status.
template <class Fn>
dicomd_status barrier(const Host* host, Fn&& fn) noexcept {
  try {
    fn();
    return DICOMD_OK;
  } catch (const std::exception& e) {
    if (host) host->error(std::string("unhandled exception: ") + e.what());
  } catch (...) {
    if (host) host->error("unhandled non-standard exception");
  }
  return DICOMD_E_INTERNAL;
}

template <class T>
struct member_class;
template <class C, class R, class... A>
struct member_class<R (C::*)(A...)> {
  using type = C;
};
template <class C, class R, class... A>
struct member_class<R (C::*)(A...) const> {
  using type = C;
};
template <class C, class T>
requires(!std::is_function_v<T>) struct member_class<T C::*> {
  using type = C;
};

}  // namespace detail

namespace detail {

// Runs a handler: an HttpError becomes its JSON error (a 5xx is logged and
// answered without details), WouldBlock becomes DICOMD_E_WOULD_BLOCK, any
// other exception a logged 500.
template <class Call>
dicomd_status run_handler(const Host& host, const dicomd_request* request, dicomd_response* response, Call&& call) {
  Response res(host.api(), response);
  bool would_block = false;
  dicomd_status status = barrier(&host, [&] {
    try {
      call(Request(request), res);
    } catch (const HttpError& e) {
      if (e.status < 500) {
        res.error(e.status, e.what());
        return;
      }
      std::string id(view(request->request_id));
      host.error("request " + id + ": " + e.what());
      if (e.status == 503) res.header("Retry-After", "1");  // busy, not broken: come back
      res.error(e.status, e.status == 500 ? "internal error (request id " + id + ")" : e.what());
    } catch (const WouldBlock&) {
      if (Request(request).may_block()) throw std::logic_error("WouldBlock thrown where the handler may block");
      would_block = true;
    }
  });
  return would_block ? DICOMD_E_WOULD_BLOCK : status;
}

template <auto Method>
dicomd_status route_to_plugin(void* self, const dicomd_request* request, dicomd_response* response) {
  using C = typename member_class<decltype(Method)>::type;
  auto* plugin = static_cast<C*>(self);
  return run_handler(plugin->host(), request, response,
                     [&](const Request& req, Response& res) { (plugin->*Method)(req, res); });
}

template <auto Member, auto Method>
dicomd_status route_to_member(void* self, const dicomd_request* request, dicomd_response* response) {
  using C = typename member_class<decltype(Member)>::type;
  auto* plugin = static_cast<C*>(self);
  return run_handler(plugin->host(), request, response,
                     [&](const Request& req, Response& res) { ((plugin->*Member).*Method)(req, res); });
}

}  // namespace detail

// Route handler: dicomd::route<&MyPlugin::handler>, or
// dicomd::route<&MyPlugin::member_, &MemberClass::handler> for a handler of
// a member object; a handler is void(const dicomd::Request&, dicomd::Response&).
template <auto... Path>
inline constexpr dicomd_handler_fn route = nullptr;
template <auto Method>
inline constexpr dicomd_handler_fn route<Method> = &detail::route_to_plugin<Method>;
template <auto Member, auto Method>
inline constexpr dicomd_handler_fn route<Member, Method> = &detail::route_to_member<Member, Method>;

namespace detail {

template <class P>
dicomd_status init(const dicomd_host_api* api, dicomd_host* handle, dicomd_str config, void** self) {
  Host host(api, handle);
  return barrier(&host, [&] {
    // Ownership crosses the C boundary here and comes back in destroy<P>().
    *self = std::make_unique<P>(host, view(config)).release();
  });
}
template <class P>
dicomd_status start(void* self) {
  auto* p = static_cast<P*>(self);
  return barrier(&p->host(), [&] { p->on_start(); });
}
template <class P>
void stop(void* self) {
  auto* p = static_cast<P*>(self);
  barrier(&p->host(), [&] { p->on_stop(); });
}
template <class P>
void destroy(void* self) {
  std::unique_ptr<P> owned(static_cast<P*>(self));
  owned.reset();
}
template <class P>
int32_t ready(void* self, dicomd_sink detail_sink) {
  auto* p = static_cast<P*>(self);
  bool ok = false;
  std::string detail;
  barrier(&p->host(), [&] { ok = p->ready(detail); });
  if (!detail.empty()) detail_sink.write(detail_sink.ctx, detail.data(), detail.size());
  return ok ? 1 : 0;
}
template <class P>
dicomd_status isolated_job(dicomd_str kind, dicomd_str input, dicomd_sink output) {
  dicomd_status status = DICOMD_E_INTERNAL;
  barrier(nullptr, [&] {
    if constexpr (requires(std::string_view s, dicomd_sink o) { P::isolated_job(s, s, o); })
      status = P::isolated_job(view(kind), view(input), output);
    else
      status = P::isolated_job(view(kind), view(input), output, std::string_view());
  });
  return status;
}
template <class P>
dicomd_status isolated_job_traced(dicomd_str kind, dicomd_str input, dicomd_str traceparent, dicomd_sink output) {
  dicomd_status status = DICOMD_E_INTERNAL;
  barrier(nullptr, [&] { status = P::isolated_job(view(kind), view(input), output, view(traceparent)); });
  return status;
}

template <class P>
dicomd_status request_filter(void* self, const dicomd_request* request, dicomd_response* response) {
  auto* p = static_cast<P*>(self);
  FilterResult result = FilterResult::kContinue;
  dicomd_status status = run_handler(p->host(), request, response,
                                     [&](const Request& req, Response& res) { result = p->filter(req, res); });
  if (status == DICOMD_OK && result == FilterResult::kAnswered) return DICOMD_FILTER_ANSWERED;
  return status;
}

template <class P>
void after_answer(void* self, const dicomd_request_summary* s) {
  auto* p = static_cast<P*>(self);
  barrier(&p->host(), [&] {
    p->after_answer(RequestSummary{view(s->method), view(s->route), view(s->request_id), view(s->subject), s->status,
                                   s->bytes_in, s->bytes_out, s->duration_ns, s});
  });
}

template <class P>
constexpr auto filter_hook() {
  if constexpr (requires(P & p, const Request& q, Response& r) { p.filter(q, r); })
    return &request_filter<P>;
  else
    return static_cast<decltype(&request_filter<P>)>(nullptr);
}

template <class P>
constexpr auto after_answer_hook() {
  if constexpr (requires(P & p, const RequestSummary& s) { p.after_answer(s); })
    return &after_answer<P>;
  else
    return static_cast<decltype(&after_answer<P>)>(nullptr);
}

template <class P>
constexpr auto job_hook() {
  if constexpr (
      requires(std::string_view s, dicomd_sink o) { P::isolated_job(s, s, o); } ||
      requires(std::string_view s, dicomd_sink o) { P::isolated_job(s, s, o, s); })
    return &isolated_job<P>;
  else
    return static_cast<dicomd_status (*)(dicomd_str, dicomd_str, dicomd_sink)>(nullptr);
}

template <class P>
constexpr auto traced_job_hook() {
  if constexpr (requires(std::string_view s, dicomd_sink o) { P::isolated_job(s, s, o, s); })
    return &isolated_job_traced<P>;
  else
    return static_cast<dicomd_status (*)(dicomd_str, dicomd_str, dicomd_str, dicomd_sink)>(nullptr);
}

// Static storage for the route table a plugin class returns from routes().
template <class P>
inline constexpr auto kRoutesOf = P::routes();

template <class P>
constexpr auto route_flags_of() {
  if constexpr (requires { P::route_flags(); }) {
    static_assert(P::route_flags().size() == P::routes().size(), "route_flags(): one entry per route");
    return P::route_flags();
  } else {
    return std::array<uint32_t, 0>{};
  }
}
template <class P>
inline constexpr auto kRouteFlagsOf = route_flags_of<P>();

template <class P>
constexpr auto route_media_types_of() {
  if constexpr (requires { P::route_media_types(); }) {
    static_assert(P::route_media_types().size() == P::routes().size(), "route_media_types(): one entry per route");
    return P::route_media_types();
  } else {
    return std::array<const char*, 0>{};
  }
}
template <class P>
inline constexpr auto kRouteMediaTypesOf = route_media_types_of<P>();

template <class P>
constexpr auto route_docs_of() {
  if constexpr (requires { P::route_docs(); }) {
    static_assert(P::route_docs().size() == P::routes().size(), "route_docs(): one entry per route");
    return P::route_docs();
  } else {
    return std::array<const char*, 0>{};
  }
}
template <class P>
inline constexpr auto kRouteDocsOf = route_docs_of<P>();

template <class P>
dicomd_status check_config(dicomd_str config, dicomd_sink problem) {
  try {
    P::check_config(view(config));
    return DICOMD_OK;
  } catch (const std::exception& e) {
    std::string_view why = e.what();
    problem.write(problem.ctx, why.data(), why.size());
  } catch (...) {
    problem.write(problem.ctx, "non-standard exception", 22);
  }
  return DICOMD_E_INVALID;
}

template <class P>
constexpr auto check_config_hook() {
  if constexpr (requires(std::string_view s) { P::check_config(s); })
    return &check_config<P>;
  else
    return static_cast<decltype(&check_config<P>)>(nullptr);
}

template <class P>
constexpr dicomd_plugin_descriptor make_descriptor() {
  return dicomd_plugin_descriptor{
      sizeof(dicomd_plugin_descriptor),
      DICOMD_ABI_MAJOR,
      DICOMD_ABI_MINOR,
      P::kName,
      P::kVersion,
      P::kDescription,
      P::kProvides.data(),
      P::kProvides.size(),
      P::kRequires.data(),
      P::kRequires.size(),
      kRoutesOf<P>.data(),
      kRoutesOf<P>.size(),
      &init<P>,
      &start<P>,
      &stop<P>,
      &destroy<P>,
      &ready<P>,
      job_hook<P>(),
      kRouteFlagsOf<P>.empty() ? nullptr : kRouteFlagsOf<P>.data(),
      filter_hook<P>(),
      after_answer_hook<P>(),
      kRouteMediaTypesOf<P>.empty() ? nullptr : kRouteMediaTypesOf<P>.data(),
      kRouteDocsOf<P>.empty() ? nullptr : kRouteDocsOf<P>.data(),
      check_config_hook<P>(),
      traced_job_hook<P>(),
  };
}

}  // namespace detail
}  // namespace dicomd

// Declares the plugin's one exported entry point.
#define DICOMD_PLUGIN(PluginClass)                                                                     \
  extern "C" DICOMD_EXPORT const dicomd_plugin_descriptor* dicomd_plugin_entry(void) {                 \
    static const dicomd_plugin_descriptor descriptor = dicomd::detail::make_descriptor<PluginClass>(); \
    return &descriptor;                                                                                \
  }
