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
// A class may also declare `static constexpr auto route_flags()`, one
// DICOMD_ROUTE_* value per route (ABI 1.1). A quick route's handler checks
// request.may_block() and throws dicomd::WouldBlock when it cannot answer from
// memory; the host then calls it again on a request thread.
//
// Every call from the host into the plugin goes through an exception barrier:
// an exception is logged and turned into an error status, never propagated
// across the C boundary.
#pragma once

#include <dicomd/host.h>
#include <dicomd/http.h>
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
#include <vector>

#define DICOMD_EXPORT __attribute__((visibility("default")))

namespace dicomd {

inline std::string_view view(dicomd_str s) {
  return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view();
}
inline dicomd_str str(std::string_view s) {
  return dicomd_str{s.data(), s.size()};
}

// A sink that appends to a std::string.
inline dicomd_sink string_sink(std::string& out) {
  return dicomd_sink{&out, [](void* ctx, const void* data, size_t len) {
                       static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), len);
                     }};
}

// Thrown by plugin code to answer with a JSON error of the given status.
struct HttpError : std::runtime_error {
  int status;
  HttpError(int status_code, const std::string& message) : std::runtime_error(message), status(status_code) {}
};

// Escapes a string for a JSON string literal (UTF-8 passes through).
inline std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

// Thrown by a quick route's handler on an I/O thread (see Request::may_block)
// before it writes anything: the host calls it again on a request thread.
struct WouldBlock {};

class Request {
 public:
  explicit Request(const dicomd_request* r) : r_(r) {}
  std::string_view method() const { return view(r_->method); }
  std::string_view path() const { return view(r_->path); }
  std::string_view body() const { return view(r_->body); }
  std::string_view request_id() const { return view(r_->request_id); }
  const dicomd_request* raw() const { return r_; }
  // False on an I/O thread (quick routes only): answer from memory or throw
  // WouldBlock. A host older than ABI 1.1 always runs handlers where they may block.
  bool may_block() const {
    return r_->struct_size < offsetof(dicomd_request, may_block) + sizeof(int32_t) || r_->may_block != 0;
  }

  std::optional<std::string_view> param(std::string_view name) const { return find(r_->params, r_->param_count, name); }
  // First value of a query parameter.
  std::optional<std::string_view> query(std::string_view name) const { return find(r_->query, r_->query_count, name); }
  // Every value of a repeated query parameter, in request order.
  std::vector<std::string_view> query_all(std::string_view name) const {
    std::vector<std::string_view> out;
    for (size_t i = 0; i < r_->query_count; ++i)
      if (view(r_->query[i].name) == name) out.push_back(view(r_->query[i].value));
    return out;
  }
  // Header by lower-case name.
  std::optional<std::string_view> header(std::string_view lower_name) const {
    return find(r_->headers, r_->header_count, lower_name);
  }

 private:
  static std::optional<std::string_view> find(const dicomd_kv* kv, size_t n, std::string_view name) {
    for (size_t i = 0; i < n; ++i)
      if (view(kv[i].name) == name) return view(kv[i].value);
    return std::nullopt;
  }
  const dicomd_request* r_;
};

class Response {
 public:
  Response(const dicomd_host_api* api, dicomd_response* r) : api_(api), r_(r) {}
  void status(int code) { api_->response_status(r_, code); }
  void header(std::string_view name, std::string_view value) { api_->response_header(r_, str(name), str(value)); }
  void body(std::string_view content_type, std::string_view data) {
    api_->response_body(r_, str(content_type), str(data));
  }
  void send(int code, std::string_view content_type, std::string_view data) {
    status(code);
    body(content_type, data);
  }
  void json(int code, std::string_view json_text) { send(code, "application/json", json_text); }
  // {"error": message, "success": false}: API.md's error shape.
  void error(int code, std::string_view message) {
    json(code, "{\"error\":\"" + json_escape(message) + "\",\"success\":false}");
  }

 private:
  const dicomd_host_api* api_;
  dicomd_response* r_;
};

// The plugin's handle on the host: logging, services, isolation, helpers.
class Host {
 public:
  Host(const dicomd_host_api* api, dicomd_host* handle) : api_(api), h_(handle) {}
  const dicomd_host_api* api() const { return api_; }
  dicomd_host* handle() const { return h_; }

  void log(int32_t level, std::string_view msg) const { api_->log(h_, level, str(msg)); }
  void error(std::string_view msg) const { log(DICOMD_LOG_ERROR, msg); }
  void warn(std::string_view msg) const { log(DICOMD_LOG_WARN, msg); }
  void info(std::string_view msg) const { log(DICOMD_LOG_INFO, msg); }
  bool debug_enabled() const { return api_->log_enabled(h_, DICOMD_LOG_DEBUG) != 0; }

  void provide(const char* service, uint32_t major, const void* vtable) const {
    if (api_->provide(h_, service, major, vtable) != DICOMD_OK)
      throw std::runtime_error(std::string("host refused to register service ") + service);
  }
  template <class VTable>
  const VTable* acquire(const char* service, uint32_t major) const {
    return static_cast<const VTable*>(api_->acquire(h_, service, major));
  }
  std::string data_dir() const { return api_->data_dir(h_); }
  uint64_t max_body_bytes() const { return api_->max_body_bytes(h_); }

  // Runs a job in this plugin's isolated worker; output appended to `out`.
  dicomd_status isolate(std::string_view kind, std::string_view input, std::string& out,
                        uint32_t timeout_ms = 0) const {
    return api_->isolate(h_, str(kind), str(input), timeout_ms, string_sink(out));
  }

  // Calls fn(const dicomd_form_part&) for each part; false when malformed.
  template <class Fn>
  bool parse_multipart(const Request& req, Fn&& fn) const {
    auto trampoline = [](void* ctx, const dicomd_form_part* part) -> int32_t {
      (*static_cast<Fn*>(ctx))(*part);
      return 0;
    };
    return api_->parse_multipart(h_, req.raw(), trampoline, &fn) == DICOMD_OK;
  }

 private:
  const dicomd_host_api* api_;
  dicomd_host* h_;
};

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

 private:
  Host host_;
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

}  // namespace detail

// Route handler trampoline: dicomd::route<&MyPlugin::handler> where handler is
// void handler(const dicomd::Request&, dicomd::Response&). An HttpError thrown
// by the handler becomes its JSON error; any other exception a 500.
template <auto Method>
dicomd_status route(void* self, const dicomd_request* request, dicomd_response* response) {
  using C = typename detail::member_class<decltype(Method)>::type;
  auto* plugin = static_cast<C*>(self);
  Response res(plugin->host().api(), response);
  bool would_block = false;
  dicomd_status status = detail::barrier(&plugin->host(), [&] {
    try {
      (plugin->*Method)(Request(request), res);
    } catch (const HttpError& e) {
      res.error(e.status, e.what());
    } catch (const WouldBlock&) {
      if (Request(request).may_block()) throw std::logic_error("WouldBlock thrown where the handler may block");
      would_block = true;
    }
  });
  return would_block ? DICOMD_E_WOULD_BLOCK : status;
}

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
  barrier(nullptr, [&] { status = P::isolated_job(view(kind), view(input), output); });
  return status;
}

template <class P>
constexpr auto job_hook() {
  if constexpr (requires(std::string_view s, dicomd_sink o) { P::isolated_job(s, s, o); })
    return &isolated_job<P>;
  else
    return static_cast<dicomd_status (*)(dicomd_str, dicomd_str, dicomd_sink)>(nullptr);
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
