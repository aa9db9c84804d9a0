// A STOW-RS request as the dicomweb plugin reads it: the Content-Type line,
// then the body, split into parts; and the same first line read as an
// Accept header. Whatever the bytes: no crash, every part a view inside the
// body, and what the writer writes is read back the same.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "multipart.h"
#include "negotiation.h"

using namespace dicomd::dicomweb;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  std::string_view header = input.substr(0, newline);
  std::string_view body = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  (void)parse_accept(header);
  auto type = parse_media_type(header);
  std::string boundary(type ? type->param("boundary").value_or("") : "");
  std::string reason;
  auto parts = parse_multipart_related(body, boundary, reason);
  if (!parts) {
    if (reason.empty()) __builtin_trap();
    return 0;
  }
  MultipartWriter writer(boundary);
  for (const auto& p : *parts) {
    if (p.data.data() < body.data() || p.data.data() + p.data.size() > body.data() + body.size()) __builtin_trap();
    writer.begin_part("application/dicom");
    writer.add_data(p.data);
  }
  std::string written = writer.finish();
  auto again = parse_multipart_related(written, boundary, reason);
  if (!again || again->size() != parts->size()) __builtin_trap();
  for (size_t i = 0; i < parts->size(); ++i)
    if ((*again)[i].data != (*parts)[i].data) __builtin_trap();
  return 0;
}
