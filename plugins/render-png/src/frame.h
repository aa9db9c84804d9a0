// One decoded frame and the display attributes of its data set.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dicomd::render {

// A lookup table as DICOM describes it (Modality LUT, VOI LUT, palette).
struct Lut {
  uint32_t entries = 0;
  int32_t first_mapped = 0;  // input value that maps to data[0]
  uint32_t bits = 0;         // bits per entry
  std::vector<uint16_t> data;
  uint16_t at(double x) const;
};

struct Window {
  double center = 0, width = 0;
  std::string function = "LINEAR";  // LINEAR, LINEAR_EXACT, SIGMOID
};

struct Frame {
  uint32_t width = 0, height = 0, frames = 1;
  uint16_t samples = 1, bits_allocated = 8, bits_stored = 8, high_bit = 7;
  bool is_signed = false;
  std::string photometric;  // as the decoder leaves the pixels (see decode.cpp)
  bool planar = false;      // samples stored plane by plane
  // This frame only: decoded into `pixels`, or, when the file holds it as
  // the display pipeline reads it (native little-endian), `borrowed`, a view
  // of the decoder's input bytes, which must outlive the frame. A 10 MB
  // radiograph is then read from the mapped file, never copied.
  std::vector<char> pixels;
  std::string_view borrowed;
  std::string_view bytes() const { return borrowed.data() ? borrowed : std::string_view(pixels.data(), pixels.size()); }

  // Display attributes.
  double slope = 1, intercept = 0;
  std::optional<Lut> modality_lut;
  std::vector<Window> windows;
  std::optional<Lut> voi_lut;
  std::optional<Lut> red, green, blue;  // PALETTE COLOR
};

}  // namespace dicomd::render
