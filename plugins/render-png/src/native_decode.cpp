#include "native_decode.h"

#include <algorithm>
#include <charconv>

#include <gdcmAttribute.h>
#include <gdcmReader.h>

#include "decode.h"
#include "dicom_reader.h"
#include "pixel_data_element.h"
#include "rle.h"

namespace dicomd::render {
namespace {

const gdcm::Tag kPixelData(0x7fe0, 0x0010);
constexpr const char* kJpeg2000Over31Bits =
    "JPEG 2000 with 32 bits per sample cannot be decoded: OpenJPEG, the decoder here, reads at most 31";

// A US attribute, or `fallback` when absent or empty.
template <uint16_t Group, uint16_t Element>
uint32_t us_or(const gdcm::DataSet& ds, uint32_t fallback) {
  gdcm::Attribute<Group, Element> a{};
  if (!ds.FindDataElement(a.GetTag()) || ds.GetDataElement(a.GetTag()).IsEmpty()) return fallback;
  a.SetFromDataSet(ds);
  return a.GetValue();
}

// Number of Frames; 1 when absent or not a positive number (PS3.3: a
// missing Number of Frames means one frame).
uint32_t number_of_frames(const gdcm::DataSet& ds) {
  std::string s = attribute_text(ds, gdcm::Tag(0x0028, 0x0008));
  uint32_t n = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), n);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && n > 0 ? n : 1;
}

bool is_native(const gdcm::TransferSyntax& ts) {
  return ts == gdcm::TransferSyntax::ImplicitVRLittleEndian || ts == gdcm::TransferSyntax::ExplicitVRLittleEndian ||
         ts == gdcm::TransferSyntax::ExplicitVRBigEndian || ts == gdcm::TransferSyntax::DeflatedExplicitVRLittleEndian;
}

bool is_jpeg2000(const gdcm::TransferSyntax& ts) {
  return ts == gdcm::TransferSyntax::JPEG2000Lossless || ts == gdcm::TransferSyntax::JPEG2000 ||
         ts == gdcm::TransferSyntax::JPEG2000Part2Lossless || ts == gdcm::TransferSyntax::JPEG2000Part2;
}

// Bytes of one native frame; 4:2:2 YBR keeps two values per pixel.
size_t native_frame_bytes(const Frame& f) {
  size_t values = f.photometric.find("_422") != std::string::npos ? 2 : f.samples;
  return static_cast<size_t>(f.width) * f.height * values * (f.bits_allocated / 8);
}

// Big-endian samples to the little-endian order the display pipeline reads.
void swap_to_little_endian(std::vector<char>& pixels, uint16_t bits_allocated) {
  size_t n = bits_allocated / 8;
  if (n < 2) return;
  for (size_t i = 0; i + n <= pixels.size(); i += n) std::reverse(pixels.begin() + i, pixels.begin() + i + n);
}

Frame frame_shape(const gdcm::DataSet& ds) {
  Frame f;
  f.height = us_or<0x0028, 0x0010>(ds, 0);
  f.width = us_or<0x0028, 0x0011>(ds, 0);
  f.samples = static_cast<uint16_t>(us_or<0x0028, 0x0002>(ds, 1));
  f.bits_allocated = static_cast<uint16_t>(us_or<0x0028, 0x0100>(ds, 0));
  f.bits_stored = static_cast<uint16_t>(us_or<0x0028, 0x0101>(ds, f.bits_allocated));
  f.high_bit = static_cast<uint16_t>(us_or<0x0028, 0x0102>(ds, f.bits_stored ? f.bits_stored - 1 : 0));
  f.is_signed = us_or<0x0028, 0x0103>(ds, 0) == 1;
  f.planar = us_or<0x0028, 0x0006>(ds, 0) == 1;
  f.photometric = attribute_text(ds, gdcm::Tag(0x0028, 0x0004));
  f.frames = number_of_frames(ds);
  return f;
}

void check_shape(const Frame& f, uint32_t frame_index) {
  check_frame_size(f.width, f.height);
  if (frame_index >= f.frames)
    throw BadRequest("frame " + std::to_string(frame_index) + " is out of range: the file has " +
                     std::to_string(f.frames) + " frame" + (f.frames == 1 ? "" : "s"));
  if (f.samples != 1 && f.samples != 3)
    throw NotRenderable("unsupported samples per pixel " + std::to_string(f.samples));
  if (f.bits_stored == 0 || f.bits_stored > f.bits_allocated || f.high_bit >= f.bits_allocated)
    throw NotRenderable("inconsistent bits allocated, stored and high bit");
}

// The native pixel data: a view into `bytes`, or for a deflated data set
// the inflated value (kept in `storage`).
std::string_view native_pixels(std::string_view bytes, size_t stop, const gdcm::TransferSyntax& ts,
                               std::string& storage) {
  if (ts == gdcm::TransferSyntax::DeflatedExplicitVRLittleEndian) {
    gdcm::Reader reader;
    if (!gdcm_support::read_full(reader, bytes)) throw NotRenderable("the deflated data set cannot be read");
    const gdcm::DataSet& ds = reader.GetFile().GetDataSet();
    const gdcm::ByteValue* bv = ds.FindDataElement(kPixelData) ? ds.GetDataElement(kPixelData).GetByteValue() : nullptr;
    if (!bv) throw NotRenderable("the file has no pixel data");
    storage.assign(bv->GetPointer(), bv->GetLength());
    return storage;
  }
  auto e =
      gdcm_support::locate_pixel_data(bytes, stop, ts == gdcm::TransferSyntax::ExplicitVRBigEndian, ts.IsExplicit());
  if (!e) throw NotRenderable("the file has no pixel data");
  if (e->encapsulated) throw NotRenderable("native pixel data is encapsulated");
  return bytes.substr(e->value_offset, std::min<uint64_t>(e->length, bytes.size() - e->value_offset));
}

std::vector<char> rle_pixels(std::string_view bytes, size_t stop, const Frame& f, uint32_t frame_index) {
  auto e = gdcm_support::locate_pixel_data(bytes, stop, false, true);
  if (!e) throw NotRenderable("the file has no pixel data");
  auto fragments = e->encapsulated ? gdcm_support::pixel_fragments(bytes, *e) : std::nullopt;
  if (!fragments) throw NotRenderable("the RLE pixel data is not encapsulated properly");
  if (frame_index >= fragments->size()) throw NotRenderable("RLE pixel data without a fragment for this frame");
  try {
    return decode_rle_frame((*fragments)[frame_index], f.width * f.height, f.samples, f.bits_allocated / 8);
  } catch (const std::runtime_error& e) {
    throw NotRenderable(std::string("the RLE pixel data cannot be decoded: ") + e.what());
  }
}

}  // namespace

std::optional<Frame> decode_without_codec(std::string_view bytes, uint32_t frame_index) {
  gdcm::Reader header;
  size_t stop = 0;
  if (!gdcm_support::read_header(header, bytes, &stop)) throw NotRenderable("the file cannot be read as DICOM");
  const gdcm::TransferSyntax ts = header.GetFile().GetHeader().GetDataSetTransferSyntax();
  const gdcm::DataSet& ds = header.GetFile().GetDataSet();
  Frame f = frame_shape(ds);
  if (is_jpeg2000(ts) && f.bits_allocated > 31) throw NotRenderable(kJpeg2000Over31Bits);
  bool rle = ts == gdcm::TransferSyntax::RLELossless;
  if (!is_native(ts) && !rle) return std::nullopt;
  bool deflated = ts == gdcm::TransferSyntax::DeflatedExplicitVRLittleEndian;  // read whole: no stop offset
  if (!deflated &&
      !gdcm_support::locate_pixel_data(bytes, stop, ts == gdcm::TransferSyntax::ExplicitVRBigEndian, ts.IsExplicit()))
    throw NotRenderable("the file has no pixel data");
  if (f.width == 0 || f.height == 0) throw NotRenderable("the image has no rows or columns");
  if (f.bits_allocated != 8 && f.bits_allocated != 16 && f.bits_allocated != 32) return std::nullopt;  // 1-bit: GDCM
  check_shape(f, frame_index);

  if (rle) {
    f.pixels = rle_pixels(bytes, stop, f, frame_index);
    f.planar = false;  // the decoder interleaves the segments
  } else {
    std::string storage;
    std::string_view all = native_pixels(bytes, stop, ts, storage);
    size_t frame_bytes = native_frame_bytes(f);
    if (static_cast<uint64_t>(frame_bytes) * (frame_index + 1) > all.size())
      throw NotRenderable("the pixel data is shorter than its frames");
    std::string_view one = all.substr(frame_bytes * frame_index, frame_bytes);
    bool big_endian = ts == gdcm::TransferSyntax::ExplicitVRBigEndian;
    if (storage.empty() && !big_endian) {
      f.borrowed = one;  // the caller's bytes, as they are
    } else {
      f.pixels.assign(one.begin(), one.end());
      if (big_endian) swap_to_little_endian(f.pixels, f.bits_allocated);
    }
  }
  read_display_attributes(ds, f);
  return f;
}

}  // namespace dicomd::render
