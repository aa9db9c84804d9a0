#include "png.h"

#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <libdeflate.h>
#include <lodepng.h>

namespace dicomd::render {
namespace {

// lodepng's custom_zlib hook: zlib-wrapped deflate by libdeflate. lodepng
// frees the output with free(), so it must come from malloc().
unsigned libdeflate_zlib(unsigned char** out, size_t* outsize, const unsigned char* in, size_t insize,
                         const LodePNGCompressSettings* settings) {
  int level = *static_cast<const int*>(settings->custom_context);
  libdeflate_compressor* c = libdeflate_alloc_compressor(level);
  if (!c) return 83;  // lodepng's "memory allocation failed"
  size_t bound = libdeflate_zlib_compress_bound(c, insize);
  auto* buffer = static_cast<unsigned char*>(std::malloc(bound));
  if (!buffer) {
    libdeflate_free_compressor(c);
    return 83;
  }
  size_t written = libdeflate_zlib_compress(c, in, insize, buffer, bound);
  libdeflate_free_compressor(c);
  if (written == 0) {
    std::free(buffer);
    return 111;
  }
  *out = buffer;
  *outsize = written;
  return 0;
}

}  // namespace

std::string encode_png(const Image& image, const PngSettings& settings) {
  lodepng::State state;
  LodePNGColorType type = image.channels == 3 ? LCT_RGB : LCT_GREY;
  state.info_raw.colortype = type;
  state.info_raw.bitdepth = image.depth;
  state.info_png.color.colortype = type;
  state.info_png.color.bitdepth = image.depth;
  state.encoder.auto_convert = 0;  // the type is known; skip lodepng's colour analysis
  state.encoder.filter_strategy = settings.zero_filter ? LFS_ZERO : LFS_MINSUM;
  if (settings.libdeflate) {
    state.encoder.zlibsettings.custom_zlib = libdeflate_zlib;
    state.encoder.zlibsettings.custom_context = &settings.deflate_level;
  }
  std::vector<unsigned char> png;
  unsigned error = lodepng::encode(png, image.data.data(), image.width, image.height, state);
  if (error) throw std::runtime_error(std::string("PNG encoding failed: ") + lodepng_error_text(error));
  return std::string(png.begin(), png.end());
}

}  // namespace dicomd::render
