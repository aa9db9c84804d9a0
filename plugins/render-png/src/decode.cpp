#include "decode.h"

#include <cstring>

#include <gdcmAttribute.h>
#include <gdcmImageReader.h>
#include <gdcmLookupTable.h>
#include <gdcmSequenceOfItems.h>

#include "dicom_reader.h"
#include "memory_stream.h"
#include "native_decode.h"

namespace dicomd::render {

uint16_t Lut::at(double x) const {
  if (data.empty()) return 0;
  double i = x - first_mapped;
  if (i <= 0) return data.front();
  if (i >= static_cast<double>(data.size() - 1)) return data.back();
  return data[static_cast<size_t>(i)];
}

namespace {

const gdcm::Tag kPixelData(0x7fe0, 0x0010);
constexpr size_t kMaxDecodedBytes = size_t{1} << 30;  // what GDCM may decode for one render

std::vector<double> numbers(const std::string& s) {
  std::vector<double> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t bs = s.find('\\', start);
    std::string part = s.substr(start, bs == std::string::npos ? std::string::npos : bs - start);
    char* end = nullptr;
    double v = std::strtod(part.c_str(), &end);
    if (end != part.c_str()) out.push_back(v);
    if (bs == std::string::npos) break;
    start = bs + 1;
  }
  return out;
}

uint16_t u16(const char* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

// A LUT from a descriptor (3 x US/SS) and data (8- or 16-bit entries).
std::optional<Lut> read_lut(const gdcm::DataSet& ds, const gdcm::Tag& descriptor_tag, const gdcm::Tag& data_tag) {
  if (!ds.FindDataElement(descriptor_tag) || !ds.FindDataElement(data_tag)) return std::nullopt;
  const gdcm::ByteValue* desc = ds.GetDataElement(descriptor_tag).GetByteValue();
  const gdcm::ByteValue* data = ds.GetDataElement(data_tag).GetByteValue();
  if (!desc || !data || desc->GetLength() < 6) return std::nullopt;
  Lut lut;
  lut.entries = u16(desc->GetPointer());
  if (lut.entries == 0) lut.entries = 65536;
  uint16_t first = u16(desc->GetPointer() + 2);
  lut.bits = u16(desc->GetPointer() + 4);
  lut.first_mapped = first;  // may be signed (SS) when the pixels are: fixed by the caller
  const char* p = data->GetPointer();
  size_t len = data->GetLength();
  bool eight_bit_data = len < static_cast<size_t>(lut.entries) * 2;  // 8-bit entries packed in OW
  lut.data.resize(lut.entries);
  for (uint32_t i = 0; i < lut.entries; ++i) {
    if (eight_bit_data)
      lut.data[i] = i < len ? static_cast<uint8_t>(p[i]) : 0;
    else
      lut.data[i] = 2 * i + 1 < len ? u16(p + 2 * i) : 0;
  }
  return lut;
}

// The first item of a LUT sequence (Modality LUT, VOI LUT).
std::optional<Lut> read_lut_sequence(const gdcm::DataSet& ds, const gdcm::Tag& sequence_tag) {
  if (!ds.FindDataElement(sequence_tag)) return std::nullopt;
  gdcm::SmartPointer<gdcm::SequenceOfItems> items = ds.GetDataElement(sequence_tag).GetValueAsSQ();
  if (!items || items->GetNumberOfItems() == 0) return std::nullopt;
  const gdcm::DataSet& item = items->GetItem(1).GetNestedDataSet();
  return read_lut(item, gdcm::Tag(0x0028, 0x3002), gdcm::Tag(0x0028, 0x3006));
}

}  // namespace

std::string attribute_text(const gdcm::DataSet& ds, const gdcm::Tag& tag) {
  if (!ds.FindDataElement(tag)) return "";
  const gdcm::ByteValue* bv = ds.GetDataElement(tag).GetByteValue();
  if (!bv) return "";
  std::string s(bv->GetPointer(), bv->GetLength());
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(0, 1);
  return s;
}

void read_display_attributes(const gdcm::DataSet& ds, Frame& f) {
  auto slope = numbers(attribute_text(ds, gdcm::Tag(0x0028, 0x1053)));
  auto intercept = numbers(attribute_text(ds, gdcm::Tag(0x0028, 0x1052)));
  if (!slope.empty() && slope[0] != 0) f.slope = slope[0];
  if (!intercept.empty()) f.intercept = intercept[0];
  f.modality_lut = read_lut_sequence(ds, gdcm::Tag(0x0028, 0x3000));
  auto centers = numbers(attribute_text(ds, gdcm::Tag(0x0028, 0x1050)));
  auto widths = numbers(attribute_text(ds, gdcm::Tag(0x0028, 0x1051)));
  std::string function = attribute_text(ds, gdcm::Tag(0x0028, 0x1056));
  for (size_t i = 0; i < std::min(centers.size(), widths.size()); ++i)
    if (widths[i] > 0) f.windows.push_back({centers[i], widths[i], function.empty() ? "LINEAR" : function});
  f.voi_lut = read_lut_sequence(ds, gdcm::Tag(0x0028, 0x3010));
  f.red = read_lut(ds, gdcm::Tag(0x0028, 0x1101), gdcm::Tag(0x0028, 0x1201));
  f.green = read_lut(ds, gdcm::Tag(0x0028, 0x1102), gdcm::Tag(0x0028, 0x1202));
  f.blue = read_lut(ds, gdcm::Tag(0x0028, 0x1103), gdcm::Tag(0x0028, 0x1203));
}

void check_frame_size(uint32_t width, uint32_t height) {
  if (static_cast<uint64_t>(width) * height > kMaxFramePixels)
    throw NotRenderable("the image is too large to render: " + std::to_string(width) + " x " + std::to_string(height) +
                        " pixels (at most " + std::to_string(kMaxFramePixels) + ")");
}

Frame decode_frame(std::string_view bytes, uint32_t frame_index) {
  if (auto frame = decode_without_codec(bytes, frame_index)) return std::move(*frame);
  // A codec is needed (JPEG family, JPEG 2000) or the layout is 1-bit: GDCM.
  gdcm_support::quiet_gdcm();
  gdcm_support::MemoryStream stream(bytes);
  gdcm::ImageReader reader;
  reader.SetStream(stream);
  if (!reader.Read()) {
    // Tell "no pixel data" from "undecodable" with a header-only read.
    gdcm::Reader header;
    if (gdcm_support::read_header(header, bytes) && !header.GetFile().GetDataSet().FindDataElement(kPixelData) &&
        !bytes.empty())
      throw NotRenderable("the file has no pixel data");
    throw NotRenderable("the pixel data cannot be decoded");
  }
  const gdcm::Image& image = reader.GetImage();
  const gdcm::DataSet& ds = reader.GetFile().GetDataSet();
  if (!ds.FindDataElement(kPixelData)) throw NotRenderable("the file has no pixel data");

  Frame f;
  const unsigned* dims = image.GetDimensions();
  f.width = dims[0];
  f.height = dims[1];
  f.frames = image.GetNumberOfDimensions() > 2 ? dims[2] : 1;
  if (f.width == 0 || f.height == 0) throw NotRenderable("the image has no rows or columns");
  check_frame_size(f.width, f.height);
  if (frame_index >= f.frames)
    throw BadRequest("frame " + std::to_string(frame_index) + " is out of range: the file has " +
                     std::to_string(f.frames) + " frame" + (f.frames == 1 ? "" : "s"));
  const gdcm::PixelFormat& pf = image.GetPixelFormat();
  f.samples = pf.GetSamplesPerPixel();
  f.bits_allocated = pf.GetBitsAllocated();
  f.bits_stored = pf.GetBitsStored();
  f.high_bit = pf.GetHighBit();
  f.is_signed = pf.GetPixelRepresentation() == 1;
  f.photometric = gdcm::PhotometricInterpretation::GetPIString(image.GetPhotometricInterpretation());
  while (!f.photometric.empty() && f.photometric.back() == ' ') f.photometric.pop_back();  // GDCM pads to even length
  f.planar = image.GetPlanarConfiguration() == 1;
  if (f.samples != 1 && f.samples != 3)
    throw NotRenderable("unsupported samples per pixel " + std::to_string(f.samples));
  if (f.bits_allocated != 1 && f.bits_allocated != 8 && f.bits_allocated != 16 && f.bits_allocated != 32)
    throw NotRenderable("unsupported bits allocated " + std::to_string(f.bits_allocated));

  size_t total = image.GetBufferLength();  // GDCM decodes every frame at once
  if (total > kMaxDecodedBytes)
    throw NotRenderable("the pixel data is too large to decode: " + std::to_string(total) +
                        " bytes for all its frames (at most " + std::to_string(kMaxDecodedBytes) + ")");
  std::vector<char> all(total);
  if (!image.GetBuffer(all.data())) throw NotRenderable("the pixel data cannot be decoded");
  size_t frame_bytes = total / f.frames;
  size_t expected = f.bits_allocated == 1
                        ? (static_cast<size_t>(f.width) * f.height + 7) / 8
                        : static_cast<size_t>(f.width) * f.height * f.samples * (f.bits_allocated / 8);
  // (Uncompressed 4:2:2 YBR is shorter by design; display.cpp checks every
  // shape against the bytes it will read.)
  bool subsampled = f.samples == 3 && f.bits_allocated == 8 && f.photometric.find("_422") != std::string::npos;
  if (frame_bytes < expected && !subsampled && f.bits_allocated != 1)
    throw NotRenderable("the decoded pixel data is shorter than the image size");
  f.pixels.assign(all.begin() + static_cast<std::ptrdiff_t>(frame_bytes * frame_index),
                  all.begin() + static_cast<std::ptrdiff_t>(frame_bytes * (frame_index + 1)));
  read_display_attributes(ds, f);
  return f;
}

}  // namespace dicomd::render
