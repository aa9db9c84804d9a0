// Small helpers to write JSON text by appending to a string: telemetry is
// written on request paths and in bulk, where a DOM would cost more than
// the request.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dicomd::exporter {

// "text" with quotes; control characters escaped, invalid UTF-8 replaced
// by U+FFFD so the collector never refuses the whole body.
void append_json_string(std::string& out, std::string_view text);
// "key":"value" with a leading comma unless `first`.
void append_string_field(std::string& out, std::string_view key, std::string_view value, bool first = false);
void append_uint(std::string& out, uint64_t value);
// 16 lower-case hex digits of `id` (a span id), appended.
void append_hex16(std::string& out, uint64_t id);
// 32 random lower-case hex digits (a Sentry event id, a UUID without dashes).
std::string random_hex32();

}  // namespace dicomd::exporter
