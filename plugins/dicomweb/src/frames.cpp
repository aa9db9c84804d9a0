#include "frames.h"

#include <charconv>

#include "pixel_data_element.h"

namespace dicomd::dicomweb {
namespace {

constexpr uint32_t kRows = 0x00280010, kColumns = 0x00280011, kSamples = 0x00280002, kBitsAllocated = 0x00280100,
                   kNumberOfFrames = 0x00280008, kPixelData = 0x7FE00010;
constexpr uint32_t kMaxFrames = 1u << 20;

bool is_jpeg_family(std::string_view ts) {
  return ts.starts_with("1.2.840.10008.1.2.4.5") || ts.starts_with("1.2.840.10008.1.2.4.6") ||
         ts.starts_with("1.2.840.10008.1.2.4.7");
}

// The fragments of encapsulated data grouped into `count` frames: one
// fragment each when the counts agree, all of them for a single frame,
// else split where a JPEG stream starts (FF D8) for the JPEG family.
bool group_fragments(const std::vector<std::string_view>& fragments, uint32_t count, std::string_view ts,
                     std::vector<std::vector<std::string_view>>& out) {
  if (fragments.size() == count) {
    for (auto f : fragments) out.push_back({f});
    return true;
  }
  if (count == 1) {
    out.push_back(fragments);
    return true;
  }
  if (!is_jpeg_family(ts)) return false;
  for (auto f : fragments) {
    bool starts = f.size() >= 2 && static_cast<unsigned char>(f[0]) == 0xFF && static_cast<unsigned char>(f[1]) == 0xD8;
    if (starts || out.empty()) out.emplace_back();
    out.back().push_back(f);
  }
  return out.size() == count;
}

}  // namespace

std::string_view frame_media_type(std::string_view ts) {
  if (ts == "1.2.840.10008.1.2" || ts == "1.2.840.10008.1.2.1" || ts == "1.2.840.10008.1.2.2" || ts.empty())
    return "application/octet-stream";
  if (ts == "1.2.840.10008.1.2.5") return "image/x-dicom-rle";
  if (ts == "1.2.840.10008.1.2.4.80" || ts == "1.2.840.10008.1.2.4.81") return "image/jls";
  if (ts == "1.2.840.10008.1.2.4.90" || ts == "1.2.840.10008.1.2.4.91") return "image/jp2";
  if (ts == "1.2.840.10008.1.2.4.92" || ts == "1.2.840.10008.1.2.4.93") return "image/jpx";
  if (ts.starts_with("1.2.840.10008.1.2.4.20")) return "image/jphc";
  if (is_jpeg_family(ts)) return "image/jpeg";
  if (ts.starts_with("1.2.840.10008.1.2.4.10")) return "video/mpeg";
  return "application/octet-stream";
}

bool frames_of(std::string_view bytes, PixelFrames& out, FramesError& error) {
  ScanError scan_error;
  auto ds = scan_dataset(bytes, kPixelData, scan_error);
  if (!ds) {
    error = {422, "the stored file cannot be read: " + scan_error.reason};
    return false;
  }
  const ScannedElement* pixels = ds->find(kPixelData);
  if (!pixels) {
    error = {422, "the instance has no pixel data"};
    return false;
  }
  out.transfer_syntax = ds->transfer_syntax;
  std::string_view frames_text = ds->text(bytes, kNumberOfFrames);
  uint32_t count = 1;
  if (!frames_text.empty()) {
    auto [end, ec] = std::from_chars(frames_text.data(), frames_text.data() + frames_text.size(), count);
    if (ec != std::errc() || end != frames_text.data() + frames_text.size() || count == 0 || count > kMaxFrames) {
      error = {422, "the instance's NumberOfFrames is not a number of frames"};
      return false;
    }
  }
  out.count = count;
  if (pixels->length == kUndefinedLength) {
    out.encapsulated = true;
    gdcm_support::PixelDataElement element{pixels->vr, true, pixels->value_offset, bytes.size() - pixels->value_offset,
                                           true};
    auto fragments = gdcm_support::pixel_fragments(bytes, element);
    if (!fragments || fragments->empty() || !group_fragments(*fragments, count, out.transfer_syntax, out.frames)) {
      error = {422, "the instance's encapsulated pixel data does not split into its frames"};
      return false;
    }
    return true;
  }
  if (ds->big_endian) {
    error = {406, "the instance is big endian; its frames are only available rendered"};
    return false;
  }
  auto rows = ds->number(bytes, kRows), columns = ds->number(bytes, kColumns), samples = ds->number(bytes, kSamples),
       bits = ds->number(bytes, kBitsAllocated);
  if (!rows || !columns || !bits || *rows == 0 || *columns == 0 || (*bits != 1 && *bits % 8 != 0)) {
    error = {422, "the instance's image size (Rows, Columns, BitsAllocated) is missing or invalid"};
    return false;
  }
  uint64_t pixels_per_frame = uint64_t{*rows} * *columns * (samples ? *samples : 1);
  if (*bits == 1) {
    // Packed bits: frames are not byte-aligned unless the pixel count is.
    if (pixels_per_frame % 8 != 0 && count > 1) {
      error = {422, "the instance's 1-bit frames do not start on byte boundaries"};
      return false;
    }
  }
  uint64_t frame_bytes = *bits == 1 ? (pixels_per_frame + 7) / 8 : pixels_per_frame * (*bits / 8);
  if (frame_bytes * count > pixels->length || pixels->value_offset + frame_bytes * count > bytes.size()) {
    error = {422, "the instance's pixel data is shorter than its frames"};
    return false;
  }
  for (uint32_t i = 0; i < count; ++i)
    out.frames.push_back({bytes.substr(pixels->value_offset + i * frame_bytes, frame_bytes)});
  return true;
}

}  // namespace dicomd::dicomweb
