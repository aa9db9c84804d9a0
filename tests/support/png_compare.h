// Decoding PNGs and measuring how alike two images are (PSNR).
#pragma once

#include <string>
#include <vector>

namespace dicomd::test {

struct DecodedPng {
  unsigned width = 0, height = 0;
  unsigned channels = 0, bitdepth = 0;  // as stored in the file
  std::vector<unsigned char> rgb;       // always 8-bit RGB, for comparison
  std::string error;
};

DecodedPng decode_png(const std::string& png);
// PSNR in dB of two same-size RGB images; 99 when identical.
double psnr(const DecodedPng& a, const DecodedPng& b);

}  // namespace dicomd::test
