#include "encoder.h"

#include <lodepng.h>

#include <stdexcept>

namespace dicomd::jobs {

std::optional<Format> format_named(std::string_view name) {
  if (name == "apng") return Format::kApng;
  if (name == "gif") return Format::kGif;
  if (name == "webp") return Format::kWebp;
  return std::nullopt;
}

std::string_view name_of(Format f) {
  switch (f) {
    case Format::kApng:
      return "apng";
    case Format::kGif:
      return "gif";
    case Format::kWebp:
      return "webp";
  }
  return "";
}

std::string_view media_type_of(Format f) {
  switch (f) {
    case Format::kApng:
      return "image/apng";
    case Format::kGif:
      return "image/gif";
    case Format::kWebp:
      return "image/webp";
  }
  return "";
}

bool needs_pixels(Format f) {
  return f != Format::kApng;
}

std::unique_ptr<AnimationEncoder> make_encoder(Format format, uint32_t frame_count, uint32_t fps) {
  switch (format) {
    case Format::kApng:
      return make_apng_encoder(frame_count, fps);
    case Format::kGif:
      return make_gif_encoder(fps);
    case Format::kWebp:
      return make_webp_encoder(fps);
  }
  throw std::invalid_argument("unknown format");
}

void inspect_png(Frame& frame, bool decode) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(frame.png.data());
  lodepng::State state;
  unsigned w = 0, h = 0;
  if (unsigned e = lodepng_inspect(&w, &h, &state, bytes, frame.png.size()))
    throw std::runtime_error(std::string("a rendered frame is not a PNG: ") + lodepng_error_text(e));
  LodePNGColorType type = state.info_png.color.colortype;
  if (state.info_png.color.bitdepth != 8 || (type != LCT_GREY && type != LCT_RGB))
    throw std::runtime_error("a rendered frame is not 8-bit grey or RGB");
  frame.width = w;
  frame.height = h;
  frame.channels = type == LCT_GREY ? 1 : 3;
  if (!decode) return;
  frame.pixels.clear();
  if (unsigned e = lodepng::decode(frame.pixels, w, h, bytes, frame.png.size(), type, 8))
    throw std::runtime_error(std::string("a rendered frame cannot be decoded: ") + lodepng_error_text(e));
}

}  // namespace dicomd::jobs
