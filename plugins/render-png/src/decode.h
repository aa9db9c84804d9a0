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

Frame decode_frame(std::string_view dicom_bytes, uint32_t frame_index);

}  // namespace dicomd::render
