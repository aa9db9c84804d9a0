// Animated images from frames of one size: APNG (chunks written here; lodepng
// has no animation), GIF (giflib) and animated WebP (libwebp's mux library).
// Each encoder takes frames one by one and keeps only its output, so a long
// series costs its result in memory, not its frames.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "frame.h"

namespace dicomd::jobs {

enum class Format { kApng, kGif, kWebp };

std::optional<Format> format_named(std::string_view name);  // "apng", "gif", "webp"
std::string_view name_of(Format f);
std::string_view media_type_of(Format f);  // image/apng, image/gif, image/webp
// Whether add() reads Frame::pixels (else Frame::png is enough).
bool needs_pixels(Format f);

class AnimationEncoder {
 public:
  virtual ~AnimationEncoder() = default;
  // Frames in display order, each the size and colour type of the first.
  // Throws std::runtime_error.
  virtual void add(const Frame& frame) = 0;
  // The whole file, after the last add().
  virtual std::string finish() = 0;
};

// An encoder of `frame_count` frames shown `fps` times a second, looping.
std::unique_ptr<AnimationEncoder> make_encoder(Format format, uint32_t frame_count, uint32_t fps);

// The encoders, for tests.
std::unique_ptr<AnimationEncoder> make_apng_encoder(uint32_t frame_count, uint32_t fps);
std::unique_ptr<AnimationEncoder> make_gif_encoder(uint32_t fps);
std::unique_ptr<AnimationEncoder> make_webp_encoder(uint32_t fps);

}  // namespace dicomd::jobs
