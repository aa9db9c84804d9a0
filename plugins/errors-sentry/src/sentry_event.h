// A Sentry event (develop.sentry.dev "Event Payloads") and the envelope
// that carries it ("Envelopes": a header line, an item header line, the
// item). Every free-text field is scrubbed (scrub.h) before it is written.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dsn.h"

namespace dicomd::sentry {

struct Breadcrumb {
  double timestamp = 0;  // Unix seconds
  std::string level;     // "error", "warning", "info", "debug"
  std::string category;  // the log line's source: a plugin, or "dicomd"
  std::string message;
};

struct Event {
  std::string event_id;  // 32 lower-case hex digits
  double timestamp = 0;  // Unix seconds
  std::string level;     // "error" or "fatal"
  std::string release, environment, server_name;
  std::string transaction;                                        // "GET /files/:study/:file"
  std::string message;                                            // one line saying what happened
  std::string exception_type, exception_value, exception_module;  // empty type: no exception
  std::vector<std::pair<std::string, std::string>> tags;
  std::vector<Breadcrumb> breadcrumbs;
  std::string trace_id, span_id;  // empty: no trace context
  std::string request_method;     // empty: not about a request
};

// The event's JSON object.
std::string event_json(const Event& event);
// The envelope of one event item, with its "length".
std::string envelope(const Dsn& dsn, const std::string& event_id, const std::string& event_json, double sent_at);
// "2026-12-07T10:00:00.123456Z".
std::string rfc3339(double unix_seconds);
// Sentry's level for a DICOMD_LOG_* level.
const char* level_name(int32_t log_level);

}  // namespace dicomd::sentry
