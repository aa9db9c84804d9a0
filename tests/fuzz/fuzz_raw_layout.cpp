// The byte-level readers that run on untrusted files before GDCM does: the
// Part 10 meta header, the PixelData locator and the fragment walker. Each
// view they return must lie inside the input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "meta_header.h"
#include "pixel_data_element.h"

namespace {

void check_inside(std::string_view all, std::string_view part) {
  if (part.data() < all.data() || part.data() + part.size() > all.data() + all.size()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dicomd::gdcm_support;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  size_t start = 0;
  if (auto meta = read_meta_header(bytes)) {
    if (meta->dataset_offset > bytes.size()) __builtin_trap();
    element_has_explicit_vr(bytes, meta->dataset_offset);
    start = meta->dataset_offset;
  }
  // Every plausible stop offset, in both byte orders and VR layouts.
  for (size_t stop = start; stop <= bytes.size(); stop += 1 + bytes.size() / 64)
    for (bool big_endian : {false, true})
      for (bool explicit_vr : {false, true})
        if (auto e = locate_pixel_data(bytes, stop, big_endian, explicit_vr)) {
          if (e->value_offset > bytes.size()) __builtin_trap();
          if (e->fits && e->value_offset + e->length > bytes.size()) __builtin_trap();
          if (auto fragments = pixel_fragments(bytes, *e))
            for (auto f : *fragments) check_inside(bytes, f);
        }
  return 0;
}
