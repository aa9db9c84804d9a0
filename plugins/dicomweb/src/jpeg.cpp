#include "jpeg.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include <jpeglib.h>
#include <lodepng.h>

namespace dicomd::dicomweb {

std::optional<std::string> png_to_jpeg(std::string_view png, int quality) {
  lodepng::State state;
  unsigned width = 0, height = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(png.data());
  if (lodepng_inspect(&width, &height, &state, in, png.size()) != 0 || width == 0 || height == 0) return std::nullopt;
  LodePNGColorType source = state.info_png.color.colortype;
  bool grey = source == LCT_GREY || source == LCT_GREY_ALPHA;
  std::vector<unsigned char> pixels;
  if (lodepng::decode(pixels, width, height, in, png.size(), grey ? LCT_GREY : LCT_RGB, 8) != 0) return std::nullopt;

  jpeg_compress_struct cinfo{};
  jpeg_error_mgr jerr{};
  cinfo.err = jpeg_std_error(&jerr);
  // libjpeg's default error handler exits the process; with these inputs
  // (sizes checked above, a memory destination) no error is reachable.
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = grey ? 1 : 3;
  cinfo.in_color_space = grey ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  const size_t stride = size_t{width} * (grey ? 1 : 3);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = pixels.data() + cinfo.next_scanline * stride;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::unique_ptr<unsigned char, decltype(&std::free)> owned(buffer, &std::free);
  return std::string(reinterpret_cast<const char*>(buffer), size);
}

}  // namespace dicomd::dicomweb
