#include "png.h"

#include <stdexcept>

#include <libdeflate.h>

#include "huffman_deflate.h"

namespace dicomd::render {
namespace {

constexpr uint8_t kSubFilter = 1;

void put_u32(std::string& out, uint32_t v) {
  const char be[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                      static_cast<char>(v)};
  out.append(be, 4);
}

// Length, type, data, CRC of type and data. `data_at` is where the chunk's
// data already sits at the end of `out` (written in place, never copied).
void close_chunk(std::string& out, size_t length_at) {
  size_t data_size = out.size() - length_at - 8;
  if (data_size > 0x7fffffffu) throw std::invalid_argument("image too large for one PNG chunk");
  for (int i = 0; i < 4; ++i) out[length_at + i] = static_cast<char>(data_size >> (24 - 8 * i));
  put_u32(out, libdeflate_crc32(0, out.data() + length_at + 4, data_size + 4));
}
size_t open_chunk(std::string& out, const char type[4]) {
  size_t at = out.size();
  out.append(4, '\0');  // length, set by close_chunk
  out.append(type, 4);
  return at;
}

// Rows, each prefixed with its filter type, Sub-filtered: every byte minus
// the byte one pixel to its left.
std::string filtered_rows(const Image& image) {
  const size_t bpp = static_cast<size_t>(image.channels) * (image.depth / 8);
  const size_t row = static_cast<size_t>(image.width) * bpp;
  std::string out(static_cast<size_t>(image.height) * (row + 1), '\0');
  for (size_t y = 0; y < image.height; ++y) {
    const uint8_t* in = image.data.data() + y * row;
    auto* o = reinterpret_cast<uint8_t*>(out.data() + y * (row + 1));
    o[0] = kSubFilter;
    for (size_t x = 0; x < bpp && x < row; ++x) o[1 + x] = in[x];
    for (size_t x = bpp; x < row; ++x) o[1 + x] = static_cast<uint8_t>(in[x] - in[x - bpp]);
  }
  return out;
}

}  // namespace

std::string encode_png(const Image& image) {
  if (image.width == 0 || image.height == 0 || image.width > 0x7fffffffu || image.height > 0x7fffffffu)
    throw std::invalid_argument("PNG dimensions out of range");
  if ((image.channels != 1 && image.channels != 3) || (image.depth != 8 && image.depth != 16))
    throw std::invalid_argument("PNG holds grey or RGB samples of 8 or 16 bits here");
  size_t expected = static_cast<size_t>(image.width) * image.height * image.channels * (image.depth / 8);
  if (image.data.size() != expected) throw std::invalid_argument("image buffer does not match its shape");

  std::string rows = filtered_rows(image);
  std::string out("\x89PNG\r\n\x1a\n", 8);

  size_t ihdr = open_chunk(out, "IHDR");
  put_u32(out, image.width);
  put_u32(out, image.height);
  const char rest[5] = {static_cast<char>(image.depth), static_cast<char>(image.channels == 3 ? 2 : 0), 0, 0, 0};
  out.append(rest, 5);  // colour type (0 grey, 2 RGB), deflate, adaptive filters, no interlace
  close_chunk(out, ihdr);

  size_t idat = open_chunk(out, "IDAT");
  out.append("\x78\x01", 2);  // zlib header: deflate, 32 KiB window, fastest
  deflate_runs(rows, out);
  put_u32(out, libdeflate_adler32(1, rows.data(), rows.size()));
  close_chunk(out, idat);

  close_chunk(out, open_chunk(out, "IEND"));
  return out;
}

}  // namespace dicomd::render
