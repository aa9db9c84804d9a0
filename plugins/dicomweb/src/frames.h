// The frames of a stored instance's pixel data, as views into its bytes:
// WADO-RS /frames hands them out as stored, without decoding.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dataset_scan.h"

namespace dicomd::dicomweb {

struct PixelFrames {
  std::string transfer_syntax;
  bool encapsulated = false;
  uint32_t count = 0;  // NumberOfFrames (1 when absent)
  // One entry per frame; an encapsulated frame of several fragments is
  // several views, sent one after the other.
  std::vector<std::vector<std::string_view>> frames;
};

struct FramesError {
  int status = 0;  // 422: no usable pixel data; 406: a layout we do not hand out (big endian)
  std::string reason;
};

// Every frame of the file `bytes`; false with `error` when it has none we
// can hand out.
bool frames_of(std::string_view bytes, PixelFrames& out, FramesError& error);

// The media type a frame of this transfer syntax travels as
// ("application/octet-stream" for native data, "image/jpeg", "image/jls",
// "image/jp2", "image/jphc", "image/x-dicom-rle", ...).
std::string_view frame_media_type(std::string_view transfer_syntax);

}  // namespace dicomd::dicomweb
