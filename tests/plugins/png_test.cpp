// The PNG encoder and its DEFLATE of literals and runs: every output must inflate
// back to its input in a strict decoder (libdeflate) and a common one
// (lodepng), whatever the byte distribution.
#include <gtest/gtest.h>

#include <libdeflate.h>
#include <lodepng.h>

#include <random>

#include "huffman_deflate.h"
#include "png.h"

using namespace dicomd::render;

namespace {

std::string inflate(const std::string& deflated, size_t expected_size) {
  libdeflate_decompressor* d = libdeflate_alloc_decompressor();
  std::string out(expected_size, '\0');
  size_t actual = 0;
  auto result = libdeflate_deflate_decompress(d, deflated.data(), deflated.size(), out.data(), out.size(), &actual);
  libdeflate_free_decompressor(d);
  EXPECT_EQ(result, LIBDEFLATE_SUCCESS);
  out.resize(actual);
  return out;
}

void expect_round_trip(const std::string& data) {
  std::string deflated;
  deflate_runs(data, deflated);
  EXPECT_EQ(inflate(deflated, data.size()), data);
}

// Sum of 2^-length over used symbols: 1 for a complete prefix code.
double kraft(const std::vector<uint8_t>& lengths) {
  double sum = 0;
  for (uint8_t l : lengths)
    if (l) sum += std::ldexp(1.0, -l);
  return sum;
}

}  // namespace

TEST(HuffmanDeflate, RoundTripsEveryKindOfInput) {
  expect_round_trip("");
  expect_round_trip("x");
  expect_round_trip(std::string(100000, '\0'));                            // one long run
  for (size_t n : {2u, 3u, 4u, 10u, 11u, 257u, 258u, 259u, 516u, 517u}) {  // runs around the length codes' edges
    std::string runs = "ab" + std::string(n, 'x') + "y" + std::string(n, '\0') + "z";
    expect_round_trip(runs);
  }
  std::mt19937 rng(7);
  std::string uniform(3 << 20, '\0');  // several blocks
  for (auto& c : uniform) c = static_cast<char>(rng());
  expect_round_trip(uniform);
  std::string skewed;  // Fibonacci-like counts: an unlimited code would exceed 15 bits
  uint32_t a = 1, b = 1;
  for (int s = 0; s < 30; ++s) {
    skewed.append(a, static_cast<char>(s));
    uint32_t next = a + b;
    a = b;
    b = next;
  }
  ASSERT_GT(skewed.size(), 1000000u);
  expect_round_trip(skewed);
  std::string across(3 << 20, 'q');  // a run crossing the 1 MiB block boundaries
  across[0] = 'p';
  expect_round_trip(across);
}

// The streamed form: pieces coded one after the other, each with the byte
// before it as history, make one stream equal in content to the whole.
TEST(HuffmanDeflate, PiecesMakeOneStream) {
  std::string data(5 << 19, 'q');  // 2.5 MiB: runs across every piece boundary
  std::mt19937 rng(11);
  for (size_t i = 0; i < data.size(); i += 3) data[i] = static_cast<char>(rng() % 7);
  for (size_t piece : {size_t{1}, size_t{1000}, size_t{1} << 20}) {
    if (piece == 1) {  // every byte its own call: history and spare bits carried each time
      std::string small = data.substr(0, 3000), deflated;
      DeflateRunsStream stream;
      for (size_t at = 0; at < small.size(); ++at)
        stream.add(small.substr(at == 0 ? 0 : at - 1, at == 0 ? 1 : 2), at == 0 ? 0 : 1, at + 1 == small.size(),
                   deflated);
      EXPECT_EQ(inflate(deflated, small.size()), small);
      continue;
    }
    std::string deflated;
    DeflateRunsStream stream;
    for (size_t at = 0; at < data.size(); at += piece) {
      size_t history = at == 0 ? 0 : 1;
      stream.add(std::string_view(data).substr(at - history, std::min(piece, data.size() - at) + history), history,
                 at + piece >= data.size(), deflated);
    }
    EXPECT_EQ(inflate(deflated, data.size()), data) << "pieces of " << piece;
  }
}

// Short inputs of noise and runs of every length at every offset: the word
// scan for run starts meets the ends of the input and of its blocks.
TEST(HuffmanDeflate, RoundTripsRunsAtEveryOffset) {
  std::mt19937 rng(13);
  for (int round = 0; round < 3000; ++round) {
    std::string data(rng() % 64, '\0');
    for (auto& c : data) c = static_cast<char>(rng() % 4);  // equal neighbours are common
    if (!data.empty() && rng() % 2) {
      size_t at = rng() % data.size(), length = rng() % 20;
      for (size_t k = at; k < std::min(data.size(), at + length); ++k) data[k] = data[at];
    }
    expect_round_trip(data);
  }
}

TEST(HuffmanDeflate, RunsCostAlmostNothing) {
  std::string deflated;
  deflate_runs(std::string(1 << 20, '\0'), deflated);
  EXPECT_LT(deflated.size(), 2000u);  // 4,065 runs of 258, a few bits each
}

TEST(HuffmanDeflate, CodesAreCompleteAndWithinTheirLimit) {
  std::vector<uint32_t> fib(257, 0);
  uint32_t a = 1, b = 1;
  for (int s = 0; s < 40; ++s) {
    fib[static_cast<size_t>(s)] = a;
    uint32_t next = a + b;
    a = b;
    b = next;
  }
  for (int limit : {7, 15}) {
    auto lengths = huffman_lengths(fib, limit);
    EXPECT_LE(*std::max_element(lengths.begin(), lengths.end()), limit);
    EXPECT_DOUBLE_EQ(kraft(lengths), 1.0);
  }
  std::vector<uint32_t> single(19, 0);
  single[4] = 10;
  auto lengths = huffman_lengths(single, 7);
  EXPECT_EQ(lengths[4], 1);
  EXPECT_DOUBLE_EQ(kraft(lengths), 1.0);  // a second symbol completes the code
}

TEST(PngEncoder, DecodesToTheSamePixelsInEveryFormat) {
  std::mt19937 rng(3);
  for (uint8_t channels : {1, 3})
    for (uint8_t depth : {8, 16})
      for (auto [w, h] : {std::pair{1u, 1u}, std::pair{7u, 3u}, std::pair{300u, 211u}}) {
        Image image;
        image.width = w;
        image.height = h;
        image.channels = channels;
        image.depth = depth;
        image.data.resize(static_cast<size_t>(w) * h * channels * (depth / 8));
        for (auto& v : image.data) v = static_cast<uint8_t>(rng() % 40);  // small values, like real images
        std::string png = encode_png(image);
        std::vector<unsigned char> pixels;
        unsigned dw = 0, dh = 0;
        LodePNGColorType type = channels == 3 ? LCT_RGB : LCT_GREY;
        ASSERT_EQ(lodepng::decode(pixels, dw, dh, reinterpret_cast<const unsigned char*>(png.data()), png.size(), type,
                                  depth),
                  0u);
        EXPECT_EQ(dw, w);
        EXPECT_EQ(dh, h);
        EXPECT_EQ(pixels, image.data) << int(channels) << " channels, " << int(depth) << " bits, " << w << "x" << h;
      }
}

// A radiograph-sized image goes out in pieces of about a MiB (one IDAT
// chunk each), never in one buffer of the whole; the pieces make a PNG.
TEST(PngEncoder, LargeImagesAreWrittenInPieces) {
  Image image{2000, 2500, 1, 8, {}};
  image.data.resize(2000u * 2500u);
  std::mt19937 rng(5);
  for (size_t i = 0; i < image.data.size(); ++i)  // noise, with flat bands across the pieces' edges
    image.data[i] = (i / 2000) % 400 < 200 ? static_cast<uint8_t>(rng() % 50) : 17;
  std::string png;
  size_t pieces = 0, largest = 0;
  encode_png(image, [&](std::string_view piece) {
    ++pieces;
    largest = std::max(largest, piece.size());
    png.append(piece);
  });
  EXPECT_GE(pieces, 6u);                        // header, 5 MB in pieces of about 1 MiB, end
  EXPECT_LE(largest, (1u << 20) * 9 / 8 + 64);  // coded bytes of one piece at most
  EXPECT_EQ(png, encode_png(image));            // the same bytes as in one string
  std::vector<unsigned char> pixels;
  unsigned w = 0, h = 0;
  ASSERT_EQ(lodepng::decode(pixels, w, h, reinterpret_cast<const unsigned char*>(png.data()), png.size(), LCT_GREY, 8),
            0u);
  EXPECT_EQ(pixels, image.data);
}

TEST(PngEncoder, RefusesImagesItCannotHold) {
  Image empty;
  EXPECT_THROW(encode_png(empty), std::invalid_argument);
  Image wrong;
  wrong.width = 4;
  wrong.height = 4;
  wrong.data.resize(15);
  EXPECT_THROW(encode_png(wrong), std::invalid_argument);
}
