// multipart/form-data: the Content-Type (first line) and the body (the rest).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t eol = input.find('\n');
  std::string_view type = input.substr(0, eol);
  std::string_view body = eol == std::string_view::npos ? std::string_view() : input.substr(eol + 1);
  auto boundary = dicomd::http::multipart_boundary(type);
  if (!boundary) boundary = "B";
  if (auto parts = dicomd::http::parse_multipart(body, *boundary))
    for (const auto& p : *parts)  // every part lies inside the body
      if (!p.data.empty() && (p.data.data() < body.data() || p.data.data() + p.data.size() > body.data() + body.size()))
        __builtin_trap();
  return 0;
}
