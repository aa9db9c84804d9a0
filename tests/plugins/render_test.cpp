#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <tuple>

#include "decode.h"
#include "display.h"
#include "rle.h"

using namespace dicomd::render;

namespace {

Frame grey8(uint32_t w, uint32_t h, std::vector<char> pixels) {
  Frame f;
  f.width = w;
  f.height = h;
  f.photometric = "MONOCHROME2";
  f.pixels = std::move(pixels);
  return f;
}

}  // namespace

TEST(Window, LinearFollowsPs3_3) {
  Window w{40, 400, "LINEAR"};  // c - 0.5 - (w-1)/2 = -160, c - 0.5 + (w-1)/2 = 239
  EXPECT_EQ(apply_window(w, -160), 0);
  EXPECT_EQ(apply_window(w, 240), 255);
  EXPECT_NEAR(apply_window(w, 39.5), 127.5, 1e-9);
  Window exact{40, 400, "LINEAR_EXACT"};
  EXPECT_EQ(apply_window(exact, -160), 0);
  EXPECT_NEAR(apply_window(exact, 40), 127.5, 1e-9);
  Window sigmoid{40, 400, "SIGMOID"};
  EXPECT_NEAR(apply_window(sigmoid, 40), 127.5, 1e-9);
  EXPECT_GT(apply_window(sigmoid, 1000), 254.9);
}

TEST(Display, MinMaxMonochrome1AndRescale) {
  Frame f = grey8(3, 1, {0, 5, 10});
  auto img = to_display(f, {});
  EXPECT_EQ(img.data, (std::vector<uint8_t>{0, 128, 255}));
  f.photometric = "MONOCHROME1";
  EXPECT_EQ(to_display(f, {}).data, (std::vector<uint8_t>{255, 127, 0}));
  f.photometric = "MONOCHROME2";
  f.slope = -1;  // inverts the modality values (0, -5, -10): min-max follows them
  EXPECT_EQ(to_display(f, {}).data, (std::vector<uint8_t>{255, 128, 0}));
}

TEST(Display, SixteenBitOutputIsModalityValues) {
  Frame f = grey8(2, 1, {10, 20});
  f.intercept = 1000;
  RenderOptions o;
  o.bits = 16;
  auto img = to_display(f, o);
  EXPECT_EQ(img.depth, 16);
  EXPECT_EQ(img.data, (std::vector<uint8_t>{0x03, 0xF2, 0x03, 0xFC}));  // 1010, 1020 big-endian
}

TEST(Display, PaletteExpandsToRgb) {
  Frame f = grey8(2, 1, {0, 1});
  f.photometric = "PALETTE COLOR";
  Lut red{2, 0, 16, {0xff00, 0x0000}}, green{2, 0, 16, {0, 0x8000}}, blue{2, 0, 8, {0, 255}};
  f.red = red;
  f.green = green;
  f.blue = blue;
  auto img = to_display(f, {});
  EXPECT_EQ(img.channels, 3);
  EXPECT_EQ(img.data, (std::vector<uint8_t>{255, 0, 0, 0, 128, 255}));
}

// Bit counts come from the file: a palette LUT declaring 40-bit entries, or
// HighBit far past BitsStored, once made shifts of 32 or more (undefined
// behaviour, which the sanitizer pass turns into a failure). They are clamped.
TEST(Display, BitCountsFromTheFileAreClamped) {
  Frame f = grey8(2, 1, {0, 1});
  f.photometric = "PALETTE COLOR";
  Lut wide{2, 0, 40, {0xff00, 0x1234}};
  f.red = f.green = f.blue = wide;
  auto img = to_display(f, {});
  EXPECT_EQ(img.data, (std::vector<uint8_t>{255, 255, 255, 0x12, 0x12, 0x12}));  // read as 16-bit entries

  Frame g = grey8(2, 1, {0, 1});
  g.bits_stored = 8;
  g.high_bit = 200;
  EXPECT_NO_THROW(to_display(g, {}));
  Frame h = grey8(2, 1, {0, 1});
  h.samples = 3;
  h.photometric = "RGB";
  h.bits_allocated = 16;
  h.bits_stored = 60;
  h.high_bit = 59;
  h.pixels.assign(12, '\x01');
  EXPECT_NO_THROW(to_display(h, {}));
}

// A frame of at least 16 x 65,536 pixels with a known window builds its
// display table over every raw value, without the pass that finds the
// values used (display.cpp, grey_by_table). Both ways give the same grey
// for every pixel: the large frame's rows against the same rows alone.
TEST(Display, LargeFramesWithAKnownWindowShowTheSameGreys) {
  const uint32_t width = 1024, height = 1025;  // 1,049,600 pixels: the table over every value
  Frame large;
  large.width = width;
  large.height = height;
  large.photometric = "MONOCHROME2";
  large.bits_allocated = large.bits_stored = 16;
  large.high_bit = 15;
  large.is_signed = true;
  large.slope = 2;
  large.intercept = -1024;
  large.windows = {Window{40, 400, "LINEAR"}};
  large.pixels.resize(static_cast<size_t>(width) * height * 2);
  for (size_t i = 0; i < large.pixels.size(); ++i) large.pixels[i] = static_cast<char>((i * 7919) >> 3);
  Frame few = large;  // the first 16 rows: 16,384 pixels, the table over the values found
  few.height = 16;
  few.pixels.resize(static_cast<size_t>(width) * few.height * 2);
  RenderOptions options;
  Image all = to_display(large, options), part = to_display(few, options);
  ASSERT_EQ(part.data.size(), static_cast<size_t>(width) * 16);
  EXPECT_TRUE(std::equal(part.data.begin(), part.data.end(), all.data.begin()));
  options.window = Window{500, 100, "LINEAR"};  // the request's window, the same way
  all = to_display(large, options);
  part = to_display(few, options);
  EXPECT_TRUE(std::equal(part.data.begin(), part.data.end(), all.data.begin()));
}

TEST(Display, ThumbnailKeepsAspect) {
  Frame f = grey8(40, 10, std::vector<char>(400, 7));
  RenderOptions o;
  o.size = 8;
  auto img = to_display(f, o);
  EXPECT_EQ(img.width, 8u);
  EXPECT_EQ(img.height, 2u);
}

// Found by fuzz_render: a grey frame labelled YBR_FULL_422 with 32-bit
// samples and a short buffer was read past its end.
// The box filter, against its definition: each output sample the rounded
// mean of its box, the boxes tiling the source; 8-bit grey and RGB (the
// summed-columns path) and 16-bit grey, at sizes that do not divide.
TEST(Display, FitWithinAveragesEachBoxExactly) {
  std::mt19937 rng(3);
  for (auto [w, h, channels, depth, size] :
       std::vector<std::tuple<uint32_t, uint32_t, uint8_t, uint8_t, uint32_t>>{{512, 512, 1, 8, 128},
                                                                               {301, 177, 1, 8, 64},
                                                                               {97, 203, 3, 8, 50},
                                                                               {1000, 7, 3, 8, 33},
                                                                               {130, 90, 1, 16, 41}}) {
    Image src{w, h, channels, depth, {}};
    src.data.resize(size_t{w} * h * channels * (depth / 8));
    for (auto& b : src.data) b = static_cast<uint8_t>(rng());
    Image out = fit_within(src, size);
    ASSERT_LE(std::max(out.width, out.height), size);
    const size_t bytes = depth / 8;
    for (uint32_t oy = 0; oy < out.height; ++oy)
      for (uint32_t ox = 0; ox < out.width; ++ox)
        for (size_t k = 0; k < channels; ++k) {
          size_t y0 = size_t{oy} * h / out.height, y1 = std::max(y0 + 1, size_t{oy + 1} * h / out.height);
          size_t x0 = size_t{ox} * w / out.width, x1 = std::max(x0 + 1, size_t{ox + 1} * w / out.width);
          uint64_t sum = 0, count = (y1 - y0) * (x1 - x0);
          for (size_t y = y0; y < y1; ++y)
            for (size_t x = x0; x < x1; ++x) {
              const uint8_t* p = &src.data[((y * w + x) * channels + k) * bytes];
              sum += bytes == 2 ? (p[0] << 8 | p[1]) : p[0];
            }
          const uint8_t* d = &out.data[((size_t{oy} * out.width + ox) * channels + k) * bytes];
          uint32_t got = bytes == 2 ? (d[0] << 8 | d[1]) : d[0];
          ASSERT_EQ(got, (sum + count / 2) / count) << w << "x" << h << " at " << ox << "," << oy << " channel " << k;
        }
  }
}

TEST(Display, ShortBuffersAreRefusedWhateverTheLabels) {
  Frame f = grey8(2, 1, {1, 2, 3, 4});
  f.bits_allocated = 32;
  f.bits_stored = 32;
  f.high_bit = 31;
  f.photometric = "YBR_FULL_422";
  EXPECT_THROW(to_display(f, {}), NotRenderable);
  Frame rgb = grey8(4, 4, std::vector<char>(10));
  rgb.samples = 3;
  rgb.photometric = "RGB";
  EXPECT_THROW(to_display(rgb, {}), NotRenderable);
}

TEST(Rle, DecodesSegmentsMostSignificantByteFirst) {
  // 2 pixels, 1 sample of 16 bits: segment 0 = high bytes, segment 1 = low bytes.
  std::string frame(64, '\0');
  frame[0] = 2;   // two segments
  frame[4] = 64;  // offsets
  frame[8] = 67;
  frame += std::string("\x01\x12\x34", 3);  // literal run of 2: 0x12 0x34
  frame += std::string("\xff\x56", 2);      // replicate 0x56 twice
  auto out = decode_rle_frame(frame, 2, 1, 2);
  EXPECT_EQ(out, (std::vector<char>{0x56, 0x12, 0x56, 0x34}));
  EXPECT_THROW(decode_rle_frame(frame.substr(0, 60), 2, 1, 2), std::runtime_error);
  EXPECT_THROW(decode_rle_frame(frame, 2, 3, 2), std::runtime_error);  // wrong segment count
}
