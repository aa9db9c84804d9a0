// One rendered frame of an animation: the PNG render-png made, and its
// pixels once decoded (GIF and WebP need them; APNG reuses the PNG's own
// compressed data).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dicomd::jobs {

struct Frame {
  uint32_t width = 0, height = 0;
  uint32_t channels = 0;              // 1 (grey) or 3 (RGB), 8 bits each
  std::vector<unsigned char> pixels;  // rows top to bottom, when decoded
  std::string png;
};

// Reads the PNG's size and colour type into frame, and with `decode` its
// pixels (grey or RGB as the PNG has them). Throws std::runtime_error.
void inspect_png(Frame& frame, bool decode);

}  // namespace dicomd::jobs
