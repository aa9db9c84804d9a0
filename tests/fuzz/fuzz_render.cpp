// The display pipeline on decoded buffers of fuzzed shape, the PNG encoder
// and the RLE decoder.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "decode.h"
#include "display.h"
#include "png.h"
#include "rle.h"

using namespace dicomd::render;

namespace {

const char* kPhotometric[] = {"MONOCHROME1",   "MONOCHROME2",     "RGB",    "YBR_FULL", "YBR_FULL_422",
                              "PALETTE COLOR", "YBR_PARTIAL_422", "YBR_ICT"};

Lut lut_from(const uint8_t* p) {
  Lut l;
  l.entries = 1 + p[0] % 64;
  l.first_mapped = static_cast<int8_t>(p[1]);
  l.bits = p[2] % 2 ? 16 : 8;
  for (uint32_t i = 0; i < l.entries; ++i) l.data.push_back(static_cast<uint16_t>(p[3] * (i + 1)));
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 24) return 0;
  Frame f;
  f.width = 1 + data[0] % 48;
  f.height = 1 + data[1] % 48;
  f.samples = data[2] % 2 ? 3 : 1;
  const uint16_t bits[] = {1, 8, 16, 32};
  f.bits_allocated = bits[data[3] % 4];
  f.bits_stored = static_cast<uint16_t>(1 + data[4] % f.bits_allocated);
  f.high_bit = static_cast<uint16_t>(data[5] % f.bits_allocated);
  f.is_signed = data[6] % 2;
  f.photometric = kPhotometric[data[7] % 8];
  f.planar = data[8] % 2;
  f.slope = data[9] % 4 ? (data[9] % 7) - 3 + 0.5 : 1;
  f.intercept = static_cast<int8_t>(data[10]) * 16;
  if (data[11] % 3 == 0)
    f.windows.push_back({static_cast<double>(static_cast<int8_t>(data[12]) * 10), 1.0 + data[13],
                         data[14] % 3 == 0   ? "SIGMOID"
                         : data[14] % 3 == 1 ? "LINEAR"
                                             : "LINEAR_EXACT"});
  if (data[11] % 5 == 1) f.voi_lut = lut_from(data + 12);
  if (data[11] % 7 == 2) f.modality_lut = lut_from(data + 15);
  if (data[15] % 2) {
    f.red = lut_from(data + 16);
    f.green = lut_from(data + 17);
    f.blue = lut_from(data + 18);
  }
  size_t need = f.bits_allocated == 1 ? (f.width * f.height + 7) / 8
                                      : static_cast<size_t>(f.width) * f.height * f.samples * (f.bits_allocated / 8);
  f.pixels.assign(reinterpret_cast<const char*>(data + 24), reinterpret_cast<const char*>(data + size));
  if (data[19] % 4 != 0) f.pixels.resize(need);  // mostly the right size; sometimes short (4:2:2 data is)
  RenderOptions o;
  o.size = data[20] % 3 == 0 ? 1 + data[21] % 40 : 0;
  o.bits = data[22] % 5 == 0 ? 16 : 8;
  try {
    Image img = to_display(f, o);
    if (img.data.size() != static_cast<size_t>(img.width) * img.height * img.channels * (img.depth / 8))
      __builtin_trap();
    encode_png(img);
  } catch (const BadRequest&) {
  } catch (const NotRenderable&) {
  }
  try {
    decode_rle_frame(std::string_view(reinterpret_cast<const char*>(data), size), 1 + data[0] % 32,
                     1 + data[2] % 3 / 2 * 2, 1 + data[3] % 2);
  } catch (const std::runtime_error&) {
  }
  return 0;
}
