// Request traces as OTLP/HTTP JSON (opentelemetry-proto
// ExportTraceServiceRequest, in the protobuf JSON mapping OTLP specifies:
// ids as lower-case hex, 64-bit integers as decimal strings, enums as
// numbers), and the sampling decision.
#pragma once

#include <dicomd/http.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace dicomd::otlp {

struct Sampler {
  double ratio = 0.1;         // of new traces, decided on the trace id
  bool always_errors = true;  // every request answered 5xx or with a failed span
  // A caller's traceparent decides for its trace (parent-based sampling):
  // flag 01 exports it, 00 does not, whatever the ratio.
  bool sampled(const dicomd_request_summary& s) const;
};

// True when the request was answered 5xx or some span failed on the
// server's side (internal, I/O, a worker that crashed or timed out).
bool failed(const dicomd_request_summary& s);

// Appends the request's spans (the server span, then one per recorded
// span) as OTLP span objects, comma-separated.
void append_spans(std::string& out, const dicomd_request_summary& s);
// The body around comma-separated spans.
std::string request_prefix(std::string_view service_name, std::string_view service_version);
constexpr std::string_view kRequestSuffix = "]}]}]}";

}  // namespace dicomd::otlp
