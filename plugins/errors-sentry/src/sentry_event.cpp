#include "sentry_event.h"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "json_text.h"
#include "scrub.h"

namespace dicomd::sentry {
namespace {

using exporter::append_json_string;
using exporter::append_string_field;

void append_seconds(std::string& out, double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6f", seconds);
  out += text;
}

}  // namespace

std::string rfc3339(double unix_seconds) {
  auto whole = static_cast<std::time_t>(std::floor(unix_seconds));
  auto micros = static_cast<long>((unix_seconds - static_cast<double>(whole)) * 1e6);
  std::tm tm{};
  gmtime_r(&whole, &tm);
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
  return text;
}

const char* level_name(int32_t log_level) {
  switch (log_level) {
    case 0:
      return "error";
    case 1:
      return "warning";
    case 2:
      return "info";
    default:
      return "debug";
  }
}

std::string event_json(const Event& e) {
  std::string out = "{";
  append_string_field(out, "event_id", e.event_id, true);
  out += ",\"timestamp\":";
  append_seconds(out, e.timestamp);
  append_string_field(out, "platform", "native");
  append_string_field(out, "level", e.level);
  append_string_field(out, "logger", "dicomd");
  append_string_field(out, "release", e.release);
  append_string_field(out, "environment", e.environment);
  if (!e.server_name.empty()) append_string_field(out, "server_name", e.server_name);
  if (!e.transaction.empty()) append_string_field(out, "transaction", e.transaction);
  out += ",\"message\":{";
  append_string_field(out, "formatted", scrub(e.message), true);
  out += '}';
  if (!e.exception_type.empty()) {
    out += ",\"exception\":{\"values\":[{";
    append_string_field(out, "type", e.exception_type, true);
    append_string_field(out, "value", scrub(e.exception_value));
    if (!e.exception_module.empty()) append_string_field(out, "module", e.exception_module);
    out += ",\"mechanism\":{\"type\":\"dicomd\",\"handled\":true}}]}";
  }
  out += ",\"tags\":{";
  for (size_t i = 0; i < e.tags.size(); ++i) append_string_field(out, e.tags[i].first, e.tags[i].second, i == 0);
  out += '}';
  if (!e.breadcrumbs.empty()) {
    out += ",\"breadcrumbs\":{\"values\":[";
    for (size_t i = 0; i < e.breadcrumbs.size(); ++i) {
      const Breadcrumb& b = e.breadcrumbs[i];
      out += i ? ",{" : "{";
      out += "\"timestamp\":";
      append_seconds(out, b.timestamp);
      append_string_field(out, "type", "default");
      append_string_field(out, "category", b.category);
      append_string_field(out, "level", b.level);
      append_string_field(out, "message", scrub(b.message));
      out += '}';
    }
    out += "]}";
  }
  if (!e.trace_id.empty()) {
    out += ",\"contexts\":{\"trace\":{";
    append_string_field(out, "trace_id", e.trace_id, true);
    append_string_field(out, "span_id", e.span_id);
    append_string_field(out, "op", "http.server");
    out += "}}";
  }
  if (!e.request_method.empty()) {  // never the URL, headers, cookies or body
    out += ",\"request\":{";
    append_string_field(out, "method", e.request_method, true);
    out += '}';
  }
  out += '}';
  return out;
}

std::string envelope(const Dsn& dsn, const std::string& event_id, const std::string& event_json, double sent_at) {
  std::string out = "{";
  append_string_field(out, "event_id", event_id, true);
  append_string_field(out, "dsn", dsn.public_text());
  append_string_field(out, "sent_at", rfc3339(sent_at));
  out += "}\n{\"type\":\"event\",\"content_type\":\"application/json\",\"length\":";
  exporter::append_uint(out, event_json.size());
  out += "}\n";
  out += event_json;
  out += '\n';
  return out;
}

}  // namespace dicomd::sentry
