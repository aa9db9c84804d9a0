// What telemetry takes from clients: a traceparent header (the host parses
// it for every request) and free text that reaches error events (log
// lines, reasons), scrubbed and written as JSON. Whatever the bytes: a
// traceparent is refused or round-trips exactly; the scrubbed text, as
// errors-sentry writes it, parses as one JSON string of valid UTF-8 and
// holds no absolute path.
#include <cstddef>
#include <cstdint>
#include <cctype>
#include <cstdlib>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "json_text.h"
#include "scrub.h"
#include "trace/request_trace.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto parsed = dicomd::trace::parse_traceparent(input)) {
    std::string again = dicomd::trace::format_traceparent(parsed->trace_id, parsed->parent_span_id, parsed->flags);
    if (input.substr(0, 2) == "00" && again != input) std::abort();
    if (again.substr(3) != input.substr(3, 52)) std::abort();
  }
  std::string scrubbed = dicomd::sentry::scrub(input);
  // An absolute path is never left: "/var/lib/" survives only inside a
  // relative one ("a/var/lib/…").
  for (size_t at = scrubbed.find("/var/lib/"); at != std::string::npos; at = scrubbed.find("/var/lib/", at + 1)) {
    char before = at ? scrubbed[at - 1] : ' ';
    if (!(std::isalnum(static_cast<unsigned char>(before)) ||
          std::string_view("._-~/").find(before) != std::string_view::npos))
      std::abort();
  }
  std::string json;
  dicomd::exporter::append_json_string(json, scrubbed);
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(json.c_str(), json.size());
  if (doc.HasParseError() || !doc.IsString()) std::abort();
  return 0;
}
