// errors-sentry: every server error as an event in Sentry (or a
// self-hosted Sentry, or GlitchTip), sent as an envelope over HTTP:
//   - a request answered 5xx, or one whose work failed on the server's side
//     (a worker crash with its signal, a storage I/O error): one event per
//     request, with its trace id, request id and log lines as breadcrumbs;
//   - a failure no request saw, and a plugin that failed to start: the
//     host's "host.error" events. List this plugin first to hear of the
//     others' start-up.
// Sending is asynchronous (http_exporter.h): a bounded queue, a rate limit,
// drops counted in /metrics; a tracker that is down or slow never slows a
// request. Off unless configured: loaded only when the config names it.
#include <dicomd/cpp/config.hpp>
#include <dicomd/cpp/plugin.hpp>
#include <rapidjson/document.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <mutex>

#include "dsn.h"
#include "http_exporter.h"
#include "json_text.h"
#include "scrub.h"
#include "sentry_event.h"

namespace {

using dicomd::sentry::Breadcrumb;
using dicomd::sentry::Event;

constexpr const char* kClient = "dicomd-errors-sentry/0.1.0";

struct Settings {
  dicomd::sentry::Dsn dsn;
  std::string environment = "production";
  std::string release = "dicomd@" DICOMD_VERSION;
  std::string server_name;
  uint64_t max_queue = 100;
  uint64_t events_per_minute = 60;  // the rate limit's refill
  uint64_t burst = 10;              // and its bucket
  uint64_t timeout_ms = 5000;
};

// {"dsn":"https://KEY@host/42","environment":"production","release":…,
//  "server_name":…,"max_queue":100,"events_per_minute":60,"burst":10,
//  "timeout_ms":5000}
Settings parse_settings(std::string_view json) {
  dicomd::PluginConfig c(json);
  Settings s;
  std::string dsn;
  if (!c.get("dsn", dsn)) throw dicomd::ConfigError("errors-sentry needs \"dsn\" (https://KEY@host/PROJECT_ID)");
  try {
    s.dsn = dicomd::sentry::parse_dsn(dsn);
  } catch (const dicomd::sentry::DsnError& e) {
    throw dicomd::ConfigError(std::string("errors-sentry: \"dsn\": ") + e.what());
  }
  c.get("environment", s.environment);
  c.get("release", s.release);
  c.get("server_name", s.server_name);
  c.get_uint("max_queue", s.max_queue, 1, 100000);
  c.get_uint("events_per_minute", s.events_per_minute, 1, 100000);
  c.get_uint("burst", s.burst, 1, 10000);
  c.get_uint("timeout_ms", s.timeout_ms, 100, 120000);
  c.finish();
  return s;
}

// A token bucket: `burst` events at once, then `per_minute`.
class RateLimit {
 public:
  RateLimit(uint64_t per_minute, uint64_t burst)
      : per_second_(static_cast<double>(per_minute) / 60.0), burst_(static_cast<double>(burst)), tokens_(burst_) {}
  bool take() {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * per_second_);
    last_ = now;
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

 private:
  std::mutex mutex_;
  double per_second_, burst_, tokens_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

const char* failure_type(dicomd_status s) {
  switch (s) {
    case DICOMD_E_WORKER_DIED:
      return "WorkerCrash";
    case DICOMD_E_TIMEOUT:
      return "WorkerTimeout";
    case DICOMD_E_IO:
      return "StorageError";
    default:
      return "InternalError";
  }
}

double unix_seconds(uint64_t ns) {
  return static_cast<double>(ns) / 1e9;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string view_string(dicomd_str s) {
  return std::string(dicomd::view(s));
}

class ErrorsSentryPlugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "errors-sentry";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr const char* kDescription = "server errors as Sentry events (envelopes over HTTP)";
  static constexpr std::array<dicomd_service_ref, 0> kProvides{};
  static constexpr std::array<dicomd_service_ref, 0> kRequires{};
  static constexpr auto routes() { return std::array<dicomd_route, 0>{}; }

  ErrorsSentryPlugin(dicomd::Host host, std::string_view config)
      : Plugin(host),
        settings_(parse_settings(config)),
        limit_(settings_.events_per_minute, settings_.burst),
        sent_(host.counter("dicomd_sentry_events_sent_total", "Events the tracker accepted.")),
        dropped_(host.counter("dicomd_sentry_events_dropped_total",
                              "Events not delivered: queue_full, rate_limited, send_failed or at_exit.", "reason")),
        exporter_(exporter_options(settings_), [this](dicomd::exporter::Outcome o, std::string_view detail) {
          if (o == dicomd::exporter::Outcome::kSent) return sent_.add(1);
          dropped_.add(1, dicomd::exporter::outcome_name(o));
          if (o == dicomd::exporter::Outcome::kFailed) note_send_failure(detail);
        }) {
    // The sender runs from here on: a plugin that fails to start after
    // this one is reported before the server exits.
    subscribe("host.error", [this](const dicomd::Event& e) { report_host_error(e.payload); });
  }
  static void check_config(std::string_view config) { parse_settings(config); }

  // One event per request that failed on the server's side.
  void after_answer(const dicomd::RequestSummary& s) {
    const dicomd_span* failed = nullptr;
    if (s.has_trace())
      for (size_t i = 0; i < s.raw->span_count && !failed; ++i)
        if (dicomd_is_server_failure(s.raw->spans[i].status)) failed = &s.raw->spans[i];
    if (s.status < 500 && !failed) return;
    if (!limit_.take()) return dropped_.add(1, "rate_limited");
    send(request_event(s, failed));
  }

 private:
  static dicomd::exporter::ExporterOptions exporter_options(const Settings& s) {
    dicomd::exporter::ExporterOptions o;
    o.url = s.dsn.envelope_url();
    o.content_type = "application/x-sentry-envelope";
    o.headers = {"X-Sentry-Auth: " + s.dsn.auth_header(kClient)};
    o.max_queue = s.max_queue;
    o.timeout = std::chrono::milliseconds(s.timeout_ms);
    o.connect_timeout = std::min(o.timeout, std::chrono::milliseconds(2000));
    return o;
  }

  Event base_event(const char* level) const {
    Event e;
    e.event_id = dicomd::exporter::random_hex32();
    e.timestamp = now_seconds();
    e.level = level;
    e.release = settings_.release;
    e.environment = settings_.environment;
    e.server_name = settings_.server_name;
    return e;
  }

  Event request_event(const dicomd::RequestSummary& s, const dicomd_span* failed) const {
    Event e = base_event("error");
    std::string route = s.route.empty() ? "(no route)" : std::string(s.route);
    e.transaction = std::string(s.method) + " " + route;
    e.request_method = s.method;
    e.message = e.transaction + " answered " + std::to_string(s.status);
    std::string plugin;
    if (s.has_trace()) {
      plugin = view_string(s.raw->plugin);
      e.timestamp = unix_seconds(s.raw->end_unix_ns);
      e.trace_id = view_string(s.raw->trace_id);
      dicomd::exporter::append_hex16(e.span_id, s.raw->span_id);
      for (size_t i = 0; i < s.raw->log_line_count; ++i) {
        const dicomd_log_line& l = s.raw->log_lines[i];
        e.breadcrumbs.push_back({unix_seconds(l.unix_ns), dicomd::sentry::level_name(l.level), view_string(l.source),
                                 view_string(l.message)});
      }
    }
    if (failed) {
      e.exception_type = failure_type(failed->status);
      e.exception_module = view_string(failed->plugin);
      e.exception_value =
          view_string(failed->name) + ": " +
          (failed->detail.len ? view_string(failed->detail) : "failed with status " + std::to_string(failed->status));
      if (!e.exception_module.empty()) plugin = e.exception_module;
      e.message = e.transaction + ": " + e.exception_value;
    }
    e.tags = {{"route", route},
              {"method", std::string(s.method)},
              {"status", std::to_string(s.status)},
              {"request_id", std::string(s.request_id)}};
    if (!plugin.empty()) e.tags.emplace_back("plugin", plugin);
    return e;
  }

  // {"source":"storage-fs","status":9,"what":"start-up","detail":"…"}
  void report_host_error(std::string_view payload) {
    rapidjson::Document d;
    d.Parse(payload.data(), payload.size());
    if (d.HasParseError() || !d.IsObject()) return;
    auto text = [&](const char* key) {
      return d.HasMember(key) && d[key].IsString() ? std::string(d[key].GetString(), d[key].GetStringLength())
                                                   : std::string();
    };
    int status = d.HasMember("status") && d["status"].IsInt() ? d["status"].GetInt() : DICOMD_E_INTERNAL;
    std::string what = text("what"), source = text("source");
    if (!limit_.take()) return dropped_.add(1, "rate_limited");
    Event e = base_event(what == "start-up" ? "fatal" : "error");
    e.exception_type = what == "start-up" ? "PluginStartFailure" : failure_type(status);
    e.exception_value = text("detail");
    e.exception_module = source;
    e.message = source + ": " + e.exception_value;
    e.tags = {{"plugin", source}, {"what", what}, {"status", std::to_string(status)}};
    send(e);
  }

  void send(const Event& e) {
    std::string json = dicomd::sentry::event_json(e);
    exporter_.offer(dicomd::sentry::envelope(settings_.dsn, e.event_id, json, now_seconds()));
  }

  void note_send_failure(std::string_view detail) {
    if (exporter_.failure_worth_logging())
      host().warn("cannot send events to " + settings_.dsn.host + ": " + std::string(detail));
  }

  Settings settings_;
  RateLimit limit_;
  dicomd::Metric sent_, dropped_;
  dicomd::exporter::HttpExporter exporter_;  // last: its thread stops before the rest goes
};

}  // namespace

DICOMD_PLUGIN(ErrorsSentryPlugin)
