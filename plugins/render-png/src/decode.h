// Decodes one frame of a DICOM file with GDCM. Runs on untrusted bytes:
// call it in an isolated worker only (Debian's GDCM aborts on some input).
#pragma once

#include <stdexcept>
#include <string_view>

#include "frame.h"

namespace dicomd::render {

// Thrown with a message for the client.
struct BadRequest : std::runtime_error {  // e.g. frame out of range (400)
  using std::runtime_error::runtime_error;
};
struct NotRenderable : std::runtime_error {  // no or undecodable pixel data (422)
  using std::runtime_error::runtime_error;
};

// The frame may view `dicom_bytes` (Frame::borrowed): keep them while it is used.
Frame decode_frame(std::string_view dicom_bytes, uint32_t frame_index);

// The largest frame rendered: 2^27 pixels (e.g. 11585 x 11585). The display
// pipeline holds a few bytes per pixel, and a worker's memory is bounded.
inline constexpr uint64_t kMaxFramePixels = uint64_t{1} << 27;
// Throws NotRenderable for a frame larger than that, before anything is
// allocated for it (an encapsulated 65535 x 65535 image once gave a 500).
void check_frame_size(uint32_t width, uint32_t height);

}  // namespace dicomd::render
