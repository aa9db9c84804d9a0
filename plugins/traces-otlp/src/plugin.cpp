// traces-otlp: one trace per request — the server span, then parse, queue,
// filters, handler, worker jobs (waiting and running), storage reads and
// writes, index queries — exported to an OpenTelemetry collector as
// OTLP/HTTP JSON, in batches, from a background thread (http_exporter.h).
// Sampling: a ratio of new traces, the caller's decision for a trace that
// came with a traceparent, and every failed request. Off unless
// configured: loaded only when the config names it.
#include <dicomd/cpp/config.hpp>
#include <dicomd/cpp/plugin.hpp>
#include <rapidjson/document.h>

#include <array>
#include <mutex>

#include "http_exporter.h"
#include "otlp_json.h"

namespace {

struct Settings {
  std::string url;  // the collector's /v1/traces
  dicomd::otlp::Sampler sampler;
  std::string service_name = "dicomd";
  std::vector<std::string> headers;
  uint64_t max_queue = 64;   // batches waiting to be sent
  uint64_t max_batch = 512;  // traces per batch
  uint64_t flush_interval_ms = 1000;
  uint64_t timeout_ms = 10000;
  bool gzip = false;
};

// {"endpoint":"http://127.0.0.1:4318","sample_ratio":0.1,"sample_errors":true,
//  "service_name":"dicomd","headers":{"Authorization":"…"},"max_queue":64,
//  "max_batch":512,"flush_interval_ms":1000,"timeout_ms":10000,"compression":"none"}
Settings parse_settings(std::string_view json) {
  dicomd::PluginConfig c(json);
  Settings s;
  std::string endpoint;
  if (!c.get("endpoint", endpoint) || !(endpoint.starts_with("http://") || endpoint.starts_with("https://")))
    throw dicomd::ConfigError("traces-otlp needs \"endpoint\": the collector's http:// or https:// URL");
  while (endpoint.ends_with('/')) endpoint.pop_back();
  s.url = endpoint.ends_with("/v1/traces") ? endpoint : endpoint + "/v1/traces";
  if (const rapidjson::Value* ratio = c.value("sample_ratio")) {
    if (!ratio->IsNumber() || ratio->GetDouble() < 0 || ratio->GetDouble() > 1)
      throw dicomd::ConfigError("traces-otlp: \"sample_ratio\" must be a number from 0 to 1");
    s.sampler.ratio = ratio->GetDouble();
  }
  c.get("sample_errors", s.sampler.always_errors);
  c.get("service_name", s.service_name);
  if (const rapidjson::Value* headers = c.value("headers")) {
    if (!headers->IsObject()) throw dicomd::ConfigError("traces-otlp: \"headers\" must map names to values");
    for (const auto& h : headers->GetObject()) {
      std::string name(h.name.GetString(), h.name.GetStringLength());
      if (!h.value.IsString() || name.find_first_of(":\r\n") != std::string::npos ||
          std::string_view(h.value.GetString()).find_first_of("\r\n") != std::string_view::npos)
        throw dicomd::ConfigError("traces-otlp: header \"" + name + "\" must be a one-line string");
      s.headers.push_back(name + ": " + h.value.GetString());
    }
  }
  c.get_uint("max_queue", s.max_queue, 1, 10000);
  c.get_uint("max_batch", s.max_batch, 1, 100000);
  c.get_uint("flush_interval_ms", s.flush_interval_ms, 10, 600000);
  c.get_uint("timeout_ms", s.timeout_ms, 100, 120000);
  std::string compression = "none";
  c.get("compression", compression);
  if (compression != "gzip" && compression != "none")
    throw dicomd::ConfigError("traces-otlp: \"compression\" must be \"gzip\" or \"none\"");
  s.gzip = compression == "gzip";
  c.finish();
  return s;
}

class TracesOtlpPlugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "traces-otlp";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr const char* kDescription = "request traces exported as OTLP/HTTP JSON";
  static constexpr std::array<dicomd_service_ref, 0> kProvides{};
  static constexpr std::array<dicomd_service_ref, 0> kRequires{};
  static constexpr auto routes() { return std::array<dicomd_route, 0>{}; }

  TracesOtlpPlugin(dicomd::Host host, std::string_view config)
      : Plugin(host),
        settings_(parse_settings(config)),
        prefix_(dicomd::otlp::request_prefix(settings_.service_name, DICOMD_VERSION)),
        exported_(host.counter("dicomd_otlp_traces_exported_total", "Traces the collector accepted.")),
        dropped_(host.counter("dicomd_otlp_traces_dropped_total",
                              "Sampled traces not delivered: queue_full, send_failed or at_exit.", "reason")),
        exporter_(exporter_options(),
                  [this](dicomd::exporter::Outcome o, std::string_view detail) { on_outcome(o, detail); }) {}
  static void check_config(std::string_view config) { parse_settings(config); }

  ~TracesOtlpPlugin() override { flush(); }  // the exporter, destroyed next, sends it

  void after_answer(const dicomd::RequestSummary& s) {
    if (!s.has_trace() || !settings_.sampler.sampled(*s.raw)) return;
    // Written outside the lock into this thread's scratch string, which
    // keeps its capacity: no allocation per trace.
    thread_local std::string spans;
    spans.clear();
    dicomd::otlp::append_spans(spans, *s.raw);
    std::lock_guard lock(mutex_);
    if (batch_.empty()) batch_.push_back(prefix_);
    std::string* chunk = &batch_.back();
    if (batch_.size() == 1 || chunk->size() + spans.size() + 1 > kChunkBytes) {
      chunk = &batch_.emplace_back();
      chunk->reserve(kChunkBytes);  // below malloc's mmap threshold: reused, no page faults
    }
    if (batch_traces_ > 0) *chunk += ',';
    *chunk += spans;
    if (++batch_traces_ >= settings_.max_batch) flush_locked();
  }

 private:
  dicomd::exporter::ExporterOptions exporter_options() {
    dicomd::exporter::ExporterOptions o;
    o.url = settings_.url;
    o.content_type = "application/json";
    o.gzip = settings_.gzip;
    o.headers = settings_.headers;
    o.max_queue = settings_.max_queue;
    o.timeout = std::chrono::milliseconds(settings_.timeout_ms);
    o.connect_timeout = std::min(o.timeout, std::chrono::milliseconds(2000));
    o.tick_interval = std::chrono::milliseconds(settings_.flush_interval_ms);
    o.on_tick = [this] { flush(); };
    return o;
  }

  void flush() {
    std::lock_guard lock(mutex_);
    flush_locked();
  }

  // Hands the batch to the sender, with its trace count in front of the
  // queue (the outcome reports count traces, not batches).
  void flush_locked() {
    if (batch_traces_ == 0) return;
    std::vector<std::string> body = std::move(batch_);
    body.emplace_back(dicomd::otlp::kRequestSuffix);
    {
      std::lock_guard counts(counts_mutex_);
      in_flight_counts_.push_back(batch_traces_);
    }
    if (!exporter_.offer(std::move(body))) {
      std::lock_guard counts(counts_mutex_);
      in_flight_counts_.pop_back();
      dropped_.add(static_cast<double>(batch_traces_), "queue_full");
    }
    batch_ = {};
    batch_traces_ = 0;
  }

  // Batches are sent in the order they were offered: the oldest count is
  // the one of the batch this outcome is about.
  void on_outcome(dicomd::exporter::Outcome o, std::string_view detail) {
    if (o == dicomd::exporter::Outcome::kDroppedQueueFull) return;  // counted in flush_locked
    size_t traces = 0;
    {
      std::lock_guard counts(counts_mutex_);
      if (in_flight_counts_.empty()) return;
      traces = in_flight_counts_.front();
      in_flight_counts_.erase(in_flight_counts_.begin());
    }
    if (o == dicomd::exporter::Outcome::kSent) return exported_.add(static_cast<double>(traces));
    dropped_.add(static_cast<double>(traces), dicomd::exporter::outcome_name(o));
    if (o == dicomd::exporter::Outcome::kFailed && exporter_.failure_worth_logging())
      host().warn("cannot export traces to " + settings_.url + ": " + std::string(detail));
  }

  Settings settings_;
  std::string prefix_;
  dicomd::Metric exported_, dropped_;
  std::mutex mutex_;  // the batch being filled
  // The request body being built: prefix_, then chunks of traces' spans,
  // handed to the sender as these pieces, joined by nobody.
  static constexpr size_t kChunkBytes = 64 << 10;
  std::vector<std::string> batch_;
  size_t batch_traces_ = 0;
  std::mutex counts_mutex_;
  std::vector<size_t> in_flight_counts_;     // traces per batch handed to the exporter, oldest first
  dicomd::exporter::HttpExporter exporter_;  // last: its thread stops first
};

}  // namespace

DICOMD_PLUGIN(TracesOtlpPlugin)
