// A stored file's bytes as WADO-RS /frames and STOW-RS read them: the top
// level walked without GDCM, the pixel data split into frames. Whatever the
// bytes: no crash, a reason for every refusal, and every element and frame
// inside the file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataset_scan.h"
#include "frames.h"

using namespace dicomd::dicomweb;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ScanError error;
  auto ds = scan_dataset(bytes, 0xFFFFFFFF, error);
  if (!ds && error.reason.empty()) __builtin_trap();
  if (ds)
    for (const auto& e : ds->elements) {
      if (e.value_offset > bytes.size()) __builtin_trap();
      if (e.length != kUndefinedLength && e.value_offset + e.length > bytes.size()) __builtin_trap();
      (void)ds->text(bytes, e.tag);
      (void)ds->number(bytes, e.tag);
    }
  PixelFrames frames;
  FramesError frames_error;
  if (!frames_of(bytes, frames, frames_error)) {
    if (frames_error.reason.empty() || (frames_error.status != 422 && frames_error.status != 406)) __builtin_trap();
    return 0;
  }
  if (frames.frames.size() != frames.count) __builtin_trap();
  for (const auto& frame : frames.frames)
    for (auto piece : frame)
      if (piece.data() < bytes.data() || piece.data() + piece.size() > bytes.data() + bytes.size()) __builtin_trap();
  return 0;
}
