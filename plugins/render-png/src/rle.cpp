#include "rle.h"

#include <cstring>

namespace dicomd::render {
namespace {

uint32_t u32(std::string_view b, size_t at) {
  uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return v;
}

// PackBits: n in 0..127 copies n+1 bytes, -1..-127 repeats the next byte
// 1-n times, -128 is a no-op. Stops when `out` is full.
void unpack_segment(std::string_view in, std::vector<uint8_t>& out) {
  size_t i = 0, o = 0;
  while (i < in.size() && o < out.size()) {
    auto n = static_cast<int8_t>(in[i++]);
    if (n >= 0) {
      size_t count = std::min<size_t>(static_cast<size_t>(n) + 1, std::min(in.size() - i, out.size() - o));
      std::memcpy(&out[o], in.data() + i, count);
      i += static_cast<size_t>(n) + 1;
      o += count;
    } else if (n != -128) {
      if (i >= in.size()) break;
      size_t count = std::min<size_t>(static_cast<size_t>(1 - n), out.size() - o);
      std::memset(&out[o], static_cast<uint8_t>(in[i++]), count);
      o += count;
    }
  }
  if (o < out.size()) throw std::runtime_error("RLE segment shorter than the frame");
}

}  // namespace

std::vector<char> decode_rle_frame(std::string_view fragment, uint32_t pixels, uint16_t samples,
                                   uint16_t bytes_per_sample) {
  if (fragment.size() < 64) throw std::runtime_error("RLE header missing");
  uint32_t segments = u32(fragment, 0);
  uint32_t expected = static_cast<uint32_t>(samples) * bytes_per_sample;
  if (segments != expected || segments > 15) throw std::runtime_error("unexpected number of RLE segments");
  std::vector<char> out(static_cast<size_t>(pixels) * expected);
  std::vector<uint8_t> plane(pixels);
  for (uint32_t s = 0; s < segments; ++s) {
    uint32_t begin = u32(fragment, 4 + 4 * s);
    uint32_t end = s + 1 < segments ? u32(fragment, 8 + 4 * s) : static_cast<uint32_t>(fragment.size());
    if (begin < 64 || begin > end || end > fragment.size()) throw std::runtime_error("bad RLE segment offset");
    unpack_segment(fragment.substr(begin, end - begin), plane);
    // Segments run sample by sample, most significant byte first.
    uint32_t sample = s / bytes_per_sample, byte = bytes_per_sample - 1 - s % bytes_per_sample;
    for (uint32_t p = 0; p < pixels; ++p)
      out[static_cast<size_t>(p) * expected + sample * bytes_per_sample + byte] = static_cast<char>(plane[p]);
  }
  return out;
}

}  // namespace dicomd::render
