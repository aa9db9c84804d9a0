// Hot paths of GET /png: decode, display pipeline (windowing), PNG encode,
// for a 512x512 CT and a 2000x2500 radiograph (16-bit, textured + noise),
// written with GDCM at start-up. Run: build/release/bin/render_bench
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <sstream>

#include <gdcmImage.h>
#include <gdcmImageWriter.h>

#include "decode.h"
#include "display.h"
#include "png.h"

#include <libdeflate.h>
#include <lodepng.h>

using namespace dicomd::render;

namespace {

// A 16-bit MONOCHROME2 image with anatomy-like smooth structure plus noise.
std::string make_dicom(unsigned width, unsigned height, double center, double window_width) {
  gdcm::ImageWriter writer;
  gdcm::Image& image = writer.GetImage();
  image.SetNumberOfDimensions(2);
  image.SetDimension(0, width);
  image.SetDimension(1, height);
  image.SetPixelFormat(gdcm::PixelFormat(gdcm::PixelFormat::INT16));
  image.SetPhotometricInterpretation(gdcm::PhotometricInterpretation::MONOCHROME2);
  image.SetTransferSyntax(gdcm::TransferSyntax::ExplicitVRLittleEndian);
  std::vector<int16_t> pixels(static_cast<size_t>(width) * height);
  std::mt19937 rng(42);
  std::normal_distribution<double> noise(0, 25);
  for (unsigned y = 0; y < height; ++y)
    for (unsigned x = 0; x < width; ++x) {
      double u = static_cast<double>(x) / width - 0.5, v = static_cast<double>(y) / height - 0.5;
      double body = std::exp(-(u * u + v * v) * 8) * 1400 + 300 * std::sin(u * 40) * std::cos(v * 30);
      pixels[static_cast<size_t>(y) * width + x] =
          static_cast<int16_t>(std::clamp(body + noise(rng) - 1000, -1024.0, 3000.0));
    }
  gdcm::DataElement pixel_data(gdcm::Tag(0x7fe0, 0x0010));
  pixel_data.SetByteValue(reinterpret_cast<const char*>(pixels.data()), static_cast<uint32_t>(pixels.size() * 2));
  image.SetDataElement(pixel_data);
  gdcm::DataSet& ds = writer.GetFile().GetDataSet();
  auto put = [&](uint16_t g, uint16_t e, const gdcm::VR& vr, const std::string& value) {
    gdcm::DataElement de(gdcm::Tag(g, e));
    de.SetVR(vr);
    de.SetByteValue(value.c_str(), static_cast<uint32_t>(value.size()));
    ds.Replace(de);
  };
  put(0x0028, 0x1050, gdcm::VR::DS, std::to_string(static_cast<int>(center)) + " ");
  put(0x0028, 0x1051, gdcm::VR::DS, std::to_string(static_cast<int>(window_width)) + " ");
  std::ostringstream out;
  writer.SetStream(out);
  if (!writer.Write()) throw std::runtime_error("cannot write the benchmark image");
  return out.str();
}

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

// range(1): 0 dicomd's encoder (Sub filter, literal-only Huffman); 1 lodepng
// default (filter search, its own deflate); 2 lodepng without filters and
// libdeflate level 1 (dicomd's encoder until 2026-11-26).
void BM_PngEncode(benchmark::State& state) {
  Image image = to_display(decode_frame(input(static_cast<int>(state.range(0))), 0), RenderOptions{});
  const char* names[] = {"dicomd sub+huffman", "lodepng default", "lodepng zero+libdeflate-1"};
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
