// The display pipeline of docs/api.md: stored values -> Modality LUT
// (rescale or LUT sequence) -> VOI (window, VOI LUT or min-max) ->
// MONOCHROME1 inversion; palette and YBR colour to RGB; thumbnails.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "frame.h"

namespace dicomd::render {

struct RenderOptions {
  uint32_t frame = 0;
  uint32_t size = 0;             // fit into size x size (0 = natural size)
  uint32_t bits = 8;             // 16: modality values as 16-bit grey, no VOI
  std::optional<Window> window;  // overrides the file's
};

struct Image {
  uint32_t width = 0, height = 0;
  uint8_t channels = 1;  // 1 grey, 3 RGB
  uint8_t depth = 8;     // 8 or 16 bits per sample (16-bit samples big-endian, as PNG stores them)
  std::vector<uint8_t> data;
};

Image to_display(const Frame& frame, const RenderOptions& options);

// Box-filter downscale so that the image fits in size x size, aspect kept.
Image fit_within(const Image& image, uint32_t size);

// Applies a window to a modality value, giving 0..255 (PS3.3 C.11.2.1.2).
double apply_window(const Window& w, double x);

}  // namespace dicomd::render
