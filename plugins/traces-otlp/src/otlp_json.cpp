#include "otlp_json.h"

#include <charconv>

#include "json_text.h"

namespace dicomd::otlp {
namespace {

using exporter::append_hex16;
using exporter::append_json_string;
using exporter::append_string_field;
using exporter::append_uint;

constexpr int kSpanKindInternal = 1, kSpanKindServer = 2;
constexpr int kStatusError = 2;

std::string_view view(dicomd_str s) {
  return {s.ptr ? s.ptr : "", s.len};
}

void append_time_field(std::string& out, std::string_view key, uint64_t ns) {
  out += ",\"";
  out += key;
  out += "\":\"";
  append_uint(out, ns);
  out += '"';
}

// Attribute keys are this file's own literals: written as they are.
void append_string_attribute(std::string& out, std::string_view key, std::string_view value, bool first = false) {
  out += first ? "{\"key\":\"" : ",{\"key\":\"";
  out += key;
  out += "\",\"value\":{\"stringValue\":";
  append_json_string(out, value);
  out += "}}";
}

void append_int_attribute(std::string& out, std::string_view key, int64_t value, bool first = false) {
  out += first ? "{\"key\":\"" : ",{\"key\":\"";
  out += key;
  out += "\",\"value\":{\"intValue\":\"";
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
  out += "\"}}";
}

void append_span_head(std::string& out, const dicomd_request_summary& s, uint64_t span_id, uint64_t parent,
                      std::string_view name, int kind, uint64_t start, uint64_t end) {
  out += "{\"traceId\":\"";
  out += view(s.trace_id);
  out += "\",\"spanId\":\"";
  append_hex16(out, span_id);
  out += '"';
  if (parent) {
    out += ",\"parentSpanId\":\"";
    append_hex16(out, parent);
    out += '"';
  }
  out += ",\"name\":";
  append_json_string(out, name);
  out += ",\"kind\":";
  out += static_cast<char>('0' + kind);
  append_time_field(out, "startTimeUnixNano", start);
  append_time_field(out, "endTimeUnixNano", end);
}

// A span that ended otherwise than OK without failing on the server's
// side (a file not found, a job that refused bad input) keeps its status
// as an attribute, not an ERROR.
bool span_failed(const dicomd_span& span) {
  return dicomd_is_server_failure(span.status);
}

uint64_t trace_id_low(std::string_view trace_id) {
  uint64_t v = 0;
  if (trace_id.size() == 32) std::from_chars(trace_id.data() + 16, trace_id.data() + 32, v, 16);
  return v;
}

}  // namespace

bool failed(const dicomd_request_summary& s) {
  if (s.status >= 500) return true;
  for (size_t i = 0; i < s.span_count; ++i)
    if (span_failed(s.spans[i])) return true;
  return false;
}

bool Sampler::sampled(const dicomd_request_summary& s) const {
  if (always_errors && failed(s)) return true;
  if (s.has_traceparent) return (s.trace_flags & 1) != 0;
  if (ratio >= 1.0) return true;
  if (ratio <= 0.0) return false;
  // The trace id's low 64 bits against ratio × 2^64, as OpenTelemetry's
  // TraceIdRatioBased: one trace is in or out on every server that samples so.
  auto threshold = static_cast<uint64_t>(ratio * 18446744073709551616.0);
  return trace_id_low(view(s.trace_id)) < threshold;
}

void append_spans(std::string& out, const dicomd_request_summary& s) {
  std::string_view route = view(s.route);
  std::string name = std::string(view(s.method)) + " " + std::string(route.empty() ? "(no route)" : route);
  append_span_head(out, s, s.span_id, s.parent_span_id, name, kSpanKindServer, s.start_unix_ns, s.end_unix_ns);
  out += ",\"attributes\":[";
  append_string_attribute(out, "http.request.method", view(s.method), true);
  if (!route.empty()) append_string_attribute(out, "http.route", route);
  append_int_attribute(out, "http.response.status_code", s.status);
  append_string_attribute(out, "dicomd.request_id", view(s.request_id));
  if (s.bytes_in) append_int_attribute(out, "http.request.body.size", static_cast<int64_t>(s.bytes_in));
  append_int_attribute(out, "http.response.body.size", static_cast<int64_t>(s.bytes_out));
  out += ']';
  if (s.status >= 500) out += ",\"status\":{\"code\":2}";
  out += '}';
  for (size_t i = 0; i < s.span_count; ++i) {
    const dicomd_span& span = s.spans[i];
    out += ',';
    append_span_head(out, s, span.span_id, span.parent_span_id, view(span.name), kSpanKindInternal, span.start_unix_ns,
                     span.end_unix_ns);
    // The host's own spans (parse, queue, filters) name no plugin.
    bool first = true;
    if (span.plugin.len) {
      out += ",\"attributes\":[";
      append_string_attribute(out, "dicomd.plugin", view(span.plugin), true);
      first = false;
    }
    if (span.status != DICOMD_OK) {
      out += first ? ",\"attributes\":[" : "";
      append_int_attribute(out, "dicomd.status", span.status, first);
      first = false;
    }
    if (!first) out += ']';
    if (span_failed(span)) {
      out += ",\"status\":{\"code\":";
      out += static_cast<char>('0' + kStatusError);
      if (span.detail.len) {
        out += ',';
        append_string_field(out, "message", view(span.detail), true);
      }
      out += '}';
    }
    out += '}';
  }
}

std::string request_prefix(std::string_view service_name, std::string_view service_version) {
  std::string out = "{\"resourceSpans\":[{\"resource\":{\"attributes\":[";
  append_string_attribute(out, "service.name", service_name, true);
  append_string_attribute(out, "service.version", service_version);
  out += "]},\"scopeSpans\":[{\"scope\":{";
  append_string_field(out, "name", "dicomd.traces-otlp", true);
  append_string_field(out, "version", "0.1.0");
  out += "},\"spans\":[";
  return out;
}

}  // namespace dicomd::otlp
