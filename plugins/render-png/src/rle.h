// DICOM RLE Lossless (PS3.5 G) decoding of one frame. GDCM 3.0.21 decodes
// 16- and 32-bit RGB RLE with its byte segments in the wrong places
// (colours differ from DCMTK's dcmdrle), so those frames are decoded here.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace dicomd::render {

// `fragment`: the frame's RLE data (header + segments). Returns pixel-
// interleaved little-endian samples, `samples` x `bytes_per_sample` each.
// Throws std::runtime_error on malformed data.
std::vector<char> decode_rle_frame(std::string_view fragment, uint32_t pixels, uint16_t samples,
                                   uint16_t bytes_per_sample);

}  // namespace dicomd::render
