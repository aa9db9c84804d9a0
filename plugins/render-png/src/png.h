// PNG encoding (ISO/IEC 15948): the Sub filter on every row, then a
// DEFLATE of literals and runs (huffman_deflate.h); CRC-32 and Adler-32 by
// libdeflate. One pass to filter, one to count, one to code: a 2000x2500
// radiograph takes a few milliseconds where a match-finding deflate takes
// tens.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "display.h"

namespace dicomd::render {

// Writes the PNG to `write` in pieces of about a MiB (one IDAT chunk
// each), holding about two pieces at a time besides the image. Throws
// std::invalid_argument, before writing anything, for an image PNG cannot
// hold.
void encode_png(const Image& image, const std::function<void(std::string_view)>& write);
// The whole PNG in one string.
std::string encode_png(const Image& image);

}  // namespace dicomd::render
