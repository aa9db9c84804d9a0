// dicomd plugin SDK, C++ layer — the plugin's handle on the host: logging,
// services, events, isolation and the multipart helper. Standard library only.
#pragma once

#include <dicomd/host.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "http.hpp"

namespace dicomd {

// One event as a subscriber sees it (ABI 1.2). Views are valid during the call.
struct Event {
  std::string_view topic;
  std::string_view key;
  std::string_view payload;  // a JSON object
  uint64_t sequence = 0;
  uint32_t attempt = 1;  // 2.. when redelivered after a failure
};

// A counter or gauge the plugin defined (ABI 1.4); a null Metric (an older
// host, or a refused definition, which the host logged) ignores updates.
class Metric {
 public:
  Metric() = default;
  Metric(const dicomd_host_api* api, dicomd_metric* m) : api_(api), m_(m) {}
  void add(double delta, std::string_view label_value = {}) const {
    if (m_) api_->metric_add(m_, str(label_value), delta);
  }
  void set(double value, std::string_view label_value = {}) const {
    if (m_) api_->metric_set(m_, str(label_value), value);
  }
  explicit operator bool() const { return m_ != nullptr; }

 private:
  const dicomd_host_api* api_ = nullptr;
  dicomd_metric* m_ = nullptr;
};

// A span of the current request's trace (ABI 1.6), ended when it goes out
// of scope: `auto span = host().span("storage.read");`. Call fail() with
// the status and a short reason (no secrets, no server paths: error
// trackers read it) when the work failed. Outside a request, or on an
// older host, it costs nothing; a failure outside a request with a
// server-side status (I/O, internal) is published as a "host.error" event.
class Span {
 public:
  Span() = default;
  Span(const dicomd_host_api* api, dicomd_host* h, std::string_view name)
      : api_(DICOMD_HAS_FIELD(api, dicomd_host_api, span_end) ? api : nullptr), h_(h) {
    if (api_) token_ = api_->span_begin(h_, str(name));
  }
  ~Span() {
    if (api_) api_->span_end(h_, token_, status_, str(detail_));
  }
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;
  void fail(dicomd_status status, std::string detail) {
    status_ = status;
    detail_ = std::move(detail);
  }

 private:
  const dicomd_host_api* api_ = nullptr;
  dicomd_host* h_ = nullptr;
  uint64_t token_ = 0;
  dicomd_status status_ = DICOMD_OK;
  std::string detail_;
};

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

  // True when the host hands files to workers without copies (ABI 1.4).
  bool has_isolate_file() const { return DICOMD_HAS_FIELD(api_, dicomd_host_api, isolate_file); }
  // Runs a job whose input is `header` followed by `length` bytes of the
  // open file `fd` from `offset`, mapped by the worker (host.h).
  dicomd_status isolate_file(std::string_view kind, std::string_view header, int fd, uint64_t offset, uint64_t length,
                             std::string& out, uint32_t timeout_ms = 0) const {
    return api_->isolate_file(h_, str(kind), str(header), fd, offset, length, timeout_ms, string_sink(out));
  }

  // Calls fn(const dicomd_form_part&) for each part; false when malformed.
  // Throws HttpError 413 when the form has more parts than the host takes.
  template <class Fn>
  bool parse_multipart(const Request& req, Fn&& fn) const {
    auto trampoline = [](void* ctx, const dicomd_form_part* part) -> int32_t {
      (*static_cast<Fn*>(ctx))(*part);
      return 0;
    };
    dicomd_status status = api_->parse_multipart(h_, req.raw(), trampoline, &fn);
    if (status == DICOMD_E_TOO_LARGE) throw HttpError(413, "the form has more than 10000 parts");
    return status == DICOMD_OK;
  }

  // A span of the current request's trace (see Span).
  [[nodiscard]] Span span(std::string_view name) const { return Span(api_, h_, name); }

  // True when the host serves metrics (ABI 1.4 or newer).
  bool has_metrics() const { return DICOMD_HAS_FIELD(api_, dicomd_host_api, metric_collector); }
  // Only from the constructor: a counter ("…_total") or gauge for GET
  // /metrics, with at most one label (few values: "hit"/"miss").
  Metric counter(const char* name, const char* help, const char* label = nullptr) const {
    return has_metrics() ? Metric(api_, api_->metric_define(h_, name, help, DICOMD_METRIC_COUNTER, label)) : Metric();
  }
  Metric gauge(const char* name, const char* help, const char* label = nullptr) const {
    return has_metrics() ? Metric(api_, api_->metric_define(h_, name, help, DICOMD_METRIC_GAUGE, label)) : Metric();
  }

  // True when the host delivers events (ABI 1.2 or newer).
  bool has_events() const { return DICOMD_HAS_FIELD(api_, dicomd_host_api, events_flush); }
  // Publishes an event to every subscriber of `topic`; false when the host
  // has no events or a subscriber's queue was full (logged by the host).
  bool publish(std::string_view topic, std::string_view key, std::string_view payload_json) const {
    return has_events() && api_->publish(h_, str(topic), str(key), str(payload_json)) == DICOMD_OK;
  }
  // Waits until every event published so far has been handled.
  bool flush_events(uint32_t timeout_ms) const {
    return has_events() && api_->events_flush(h_, timeout_ms) == DICOMD_OK;
  }

 private:
  const dicomd_host_api* api_;
  dicomd_host* h_;
};

}  // namespace dicomd
