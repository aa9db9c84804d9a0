// PNG encoding: lodepng for the format, libdeflate for the compression.
#pragma once

#include <string>

#include "display.h"

namespace dicomd::render {

struct PngSettings {
  bool libdeflate = true;   // false: lodepng's own deflate (for comparison)
  int deflate_level = 1;    // libdeflate level (1 fastest .. 12 smallest)
  bool zero_filter = true;  // LFS_ZERO: no per-row filter search
};

// Throws std::runtime_error when lodepng fails.
std::string encode_png(const Image& image, const PngSettings& settings = {});

}  // namespace dicomd::render
