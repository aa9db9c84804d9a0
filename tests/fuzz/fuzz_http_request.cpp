// The HTTP/1.1 request parser, fed in chunks of fuzzed sizes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/request_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t chunk = 1 + data[0] % 64;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  dicomd::http::ParserLimits limits;
  limits.max_header_bytes = 2048;
  limits.max_body_bytes = 4096;
  dicomd::http::RequestParser parser(limits);
  for (size_t pos = 0; pos < input.size(); pos += chunk) {
    parser.feed(input.substr(pos, chunk));
    for (int steps = 0; steps < 64; ++steps) {
      auto e = parser.next();
      if (e == dicomd::http::RequestParser::Event::kComplete) {
        auto request = parser.take();
        if (request.body.size() > limits.max_body_bytes) __builtin_trap();
        continue;
      }
      if (e == dicomd::http::RequestParser::Event::kError) return 0;
      if (e == dicomd::http::RequestParser::Event::kNeedMore) break;
    }
  }
  return 0;
}
