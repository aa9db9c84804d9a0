// Hot paths of GET /png: decode, display pipeline (windowing), PNG encode,
// for a 512x512 CT and a 2000x2500 radiograph (16-bit, textured + noise),
// written with GDCM at start-up. Run: build/release/bin/render_bench
#include <benchmark/benchmark.h>

#include "decode.h"
#include "display.h"
#include "png.h"
#include "synthetic_dicom.h"

#include <libdeflate.h>
#include <lodepng.h>

using namespace dicomd::render;
using dicomd::bench::make_dicom;

namespace {

const std::string& ct() {
  static const std::string bytes = make_dicom(512, 512, 40, 400);
  return bytes;
}
const std::string& radiograph() {
  static const std::string bytes = make_dicom(2000, 2500, 800, 2000);
  return bytes;
}
const std::string& input(int which) {
  return which == 0 ? ct() : radiograph();
}

void BM_Decode(benchmark::State& state) {
  const std::string& bytes = input(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(decode_frame(bytes, 0));
  state.SetLabel(state.range(0) == 0 ? "CT 512x512" : "radiograph 2000x2500");
}

void BM_Window(benchmark::State& state) {
  Frame frame = decode_frame(input(static_cast<int>(state.range(0))), 0);
  for (auto _ : state) benchmark::DoNotOptimize(to_display(frame, RenderOptions{}));
  state.SetLabel(state.range(0) == 0 ? "CT 512x512" : "radiograph 2000x2500");
}

void BM_Thumbnail256(benchmark::State& state) {
  Frame frame = decode_frame(input(static_cast<int>(state.range(0))), 0);
  RenderOptions o;
  o.size = 256;
  for (auto _ : state) benchmark::DoNotOptimize(to_display(frame, o));
  state.SetLabel(state.range(0) == 0 ? "CT 512x512" : "radiograph 2000x2500");
}

// lodepng's custom_zlib hook with libdeflate: the encoder before this one.
unsigned libdeflate_zlib(unsigned char** out, size_t* outsize, const unsigned char* in, size_t insize,
                         const LodePNGCompressSettings*) {
  libdeflate_compressor* c = libdeflate_alloc_compressor(1);
  size_t bound = libdeflate_zlib_compress_bound(c, insize);
  *out = static_cast<unsigned char*>(std::malloc(bound));
  *outsize = libdeflate_zlib_compress(c, in, insize, *out, bound);
  libdeflate_free_compressor(c);
  return *outsize ? 0 : 111;
}

std::string lodepng_encode(const Image& image, bool with_libdeflate) {
  lodepng::State state;
  state.info_raw.colortype = state.info_png.color.colortype = image.channels == 3 ? LCT_RGB : LCT_GREY;
  state.info_raw.bitdepth = state.info_png.color.bitdepth = image.depth;
  state.encoder.auto_convert = 0;
  if (with_libdeflate) {
    state.encoder.filter_strategy = LFS_ZERO;
    state.encoder.zlibsettings.custom_zlib = libdeflate_zlib;
  }
  std::vector<unsigned char> png;
  if (lodepng::encode(png, image.data.data(), image.width, image.height, state)) throw std::runtime_error("lodepng");
  return std::string(png.begin(), png.end());
}

// range(1): 0 dicomd's encoder (Sub filter, Huffman-coded literals and runs); 1 lodepng
// default (filter search, its own deflate); 2 lodepng without filters and
// libdeflate level 1 (dicomd's encoder until 2026-11-26).
void BM_PngEncode(benchmark::State& state) {
  Image image = to_display(decode_frame(input(static_cast<int>(state.range(0))), 0), RenderOptions{});
  const char* names[] = {"dicomd sub+huffman+runs", "lodepng default", "lodepng zero+libdeflate-1"};
  size_t size = 0;
  for (auto _ : state) {
    switch (state.range(1)) {
      case 0:
        size = encode_png(image).size();
        break;
      case 1:
        size = lodepng_encode(image, false).size();
        break;
      default:
        size = lodepng_encode(image, true).size();
        break;
    }
  }
  state.counters["png_bytes"] = static_cast<double>(size);
  state.SetLabel(std::string(state.range(0) == 0 ? "CT " : "radiograph ") + names[state.range(1)]);
}

}  // namespace

BENCHMARK(BM_Decode)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Window)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Thumbnail256)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PngEncode)->ArgsProduct({{0, 1}, {0, 1, 2}})->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
