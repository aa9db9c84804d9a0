#include "png.h"

#include <algorithm>
#include <stdexcept>

#include <libdeflate.h>

#include "huffman_deflate.h"

namespace dicomd::render {
namespace {

constexpr uint8_t kSubFilter = 1;
constexpr size_t kPieceBytes = 1 << 20;  // filtered bytes coded and written at a time

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

// Rows [first, last), each prefixed with its filter type and Sub-filtered
// (every byte minus the byte one pixel to its left), appended to `out`.
void append_filtered_rows(const Image& image, size_t first, size_t last, std::string& out) {
  const size_t bpp = static_cast<size_t>(image.channels) * (image.depth / 8);
  const size_t row = static_cast<size_t>(image.width) * bpp;
  size_t at = out.size();
  out.resize(at + (last - first) * (row + 1));
  for (size_t y = first; y < last; ++y, at += row + 1) {
    const uint8_t* in = image.data.data() + y * row;
    auto* o = reinterpret_cast<uint8_t*>(out.data() + at);
    o[0] = kSubFilter;
    for (size_t x = 0; x < bpp && x < row; ++x) o[1 + x] = in[x];
    for (size_t x = bpp; x < row; ++x) o[1 + x] = static_cast<uint8_t>(in[x] - in[x - bpp]);
  }
}

void check_image(const Image& image) {
  if (image.width == 0 || image.height == 0 || image.width > 0x7fffffffu || image.height > 0x7fffffffu)
    throw std::invalid_argument("PNG dimensions out of range");
  if ((image.channels != 1 && image.channels != 3) || (image.depth != 8 && image.depth != 16))
    throw std::invalid_argument("PNG holds grey or RGB samples of 8 or 16 bits here");
  size_t expected = static_cast<size_t>(image.width) * image.height * image.channels * (image.depth / 8);
  if (image.data.size() != expected) throw std::invalid_argument("image buffer does not match its shape");
}

}  // namespace

void encode_png(const Image& image, const std::function<void(std::string_view)>& write) {
  check_image(image);
  std::string chunk("\x89PNG\r\n\x1a\n", 8);
  size_t ihdr = open_chunk(chunk, "IHDR");
  put_u32(chunk, image.width);
  put_u32(chunk, image.height);
  const char rest[5] = {static_cast<char>(image.depth), static_cast<char>(image.channels == 3 ? 2 : 0), 0, 0, 0};
  chunk.append(rest, 5);  // colour type (0 grey, 2 RGB), deflate, adaptive filters, no interlace
  close_chunk(chunk, ihdr);

  // One IDAT chunk per group of rows of about kPieceBytes: the zlib stream
  // runs on across chunks, as PNG allows.
  const size_t row = static_cast<size_t>(image.width) * image.channels * (image.depth / 8) + 1;
  const size_t rows_per_piece = std::max<size_t>(1, kPieceBytes / row);
  DeflateRunsStream deflate;
  std::string filtered;  // the previous piece's last byte, then this piece's rows
  chunk.reserve(std::min<size_t>(image.height, rows_per_piece) * row * 9 / 8 + 1024);  // room for a coded piece
  uint32_t adler = 1;
  for (size_t first = 0; first < image.height; first += rows_per_piece) {
    size_t last = std::min<size_t>(image.height, first + rows_per_piece);
    size_t history = filtered.empty() ? 0 : 1;
    if (history) filtered.erase(0, filtered.size() - 1);
    append_filtered_rows(image, first, last, filtered);
    adler = libdeflate_adler32(adler, filtered.data() + history, filtered.size() - history);
    size_t idat = open_chunk(chunk, "IDAT");
    if (first == 0) chunk.append("\x78\x01", 2);  // zlib header: deflate, 32 KiB window, fastest
    bool end = last == image.height;
    deflate.add(filtered, history, end, chunk);
    if (end) put_u32(chunk, adler);
    close_chunk(chunk, idat);
    write(chunk);
    chunk.clear();
  }
  close_chunk(chunk, open_chunk(chunk, "IEND"));
  write(chunk);
}

std::string encode_png(const Image& image) {
  std::string out;
  encode_png(image, [&out](std::string_view piece) { out.append(piece); });
  return out;
}

}  // namespace dicomd::render
