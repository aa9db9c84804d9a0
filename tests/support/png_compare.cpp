#include "png_compare.h"

#include <cmath>

#include <lodepng.h>

namespace dicomd::test {

DecodedPng decode_png(const std::string& png) {
  DecodedPng out;
  lodepng::State state;
  std::vector<unsigned char> raw;
  unsigned w = 0, h = 0;
  std::vector<unsigned char> bytes(png.begin(), png.end());
  if (unsigned err = lodepng_inspect(&w, &h, &state, bytes.data(), bytes.size())) {
    out.error = lodepng_error_text(err);
    return out;
  }
  out.channels = lodepng_get_channels(&state.info_png.color);
  out.bitdepth = state.info_png.color.bitdepth;
  if (unsigned err = lodepng::decode(out.rgb, out.width, out.height, bytes, LCT_RGB, 8))
    out.error = lodepng_error_text(err);
  return out;
}

double psnr(const DecodedPng& a, const DecodedPng& b) {
  if (a.width != b.width || a.height != b.height || a.rgb.size() != b.rgb.size() || a.rgb.empty()) return 0;
  double sum = 0;
  for (size_t i = 0; i < a.rgb.size(); ++i) {
    double d = static_cast<double>(a.rgb[i]) - b.rgb[i];
    sum += d * d;
  }
  double mse = sum / static_cast<double>(a.rgb.size());
  return mse == 0 ? 99.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

}  // namespace dicomd::test
