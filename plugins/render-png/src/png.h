// PNG encoding (ISO/IEC 15948): the Sub filter on every row, then a
// DEFLATE of literals and runs (huffman_deflate.h); CRC-32 and Adler-32 by
// libdeflate. One pass to filter, one to count, one to code: a 2000x2500
// radiograph takes a few milliseconds where a match-finding deflate takes
// tens.
#pragma once

#include <string>

#include "display.h"

namespace dicomd::render {

// Throws std::invalid_argument for an image PNG cannot hold.
std::string encode_png(const Image& image);

}  // namespace dicomd::render
