// Frames that need no codec — native (uncompressed, deflated included) and
// RLE pixel data — decoded from the header's attributes, without GDCM's
// ImageReader: it aborts on some valid files (pydicom's rtdose_*_1frame.dcm,
// a Frame Increment Pointer without Number of Frames), which DCMTK renders.
// Runs on untrusted bytes in the isolated worker, like decode.cpp.
#pragma once

#include <optional>
#include <string_view>

#include <gdcmDataSet.h>

#include "frame.h"

namespace dicomd::render {

// The frame, or nullopt when the file's transfer syntax needs a codec (JPEG
// family, JPEG 2000, …) or its layout is one GDCM should unpack (1-bit).
// Also refuses early what no decoder here can read (32-bit JPEG 2000) or
// what has no image to read (no rows or columns).
// Throws BadRequest / NotRenderable (decode.h) like decode_frame.
std::optional<Frame> decode_without_codec(std::string_view bytes, uint32_t frame_index);

// Rescale, windows, LUTs and palettes of a data set (decode.cpp).
void read_display_attributes(const gdcm::DataSet& ds, Frame& f);
// A text attribute without its padding; "" when absent (decode.cpp).
std::string attribute_text(const gdcm::DataSet& ds, const gdcm::Tag& tag);

}  // namespace dicomd::render
