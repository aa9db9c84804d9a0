#include "dicom_check.h"

#include <gdcmAttribute.h>
#include <gdcmDataSet.h>
#include <gdcmSequenceOfFragments.h>

#include "dicom_reader.h"

namespace dicomd::validator {
namespace {

constexpr size_t kPreambleBytes = 128;

bool starts_with(std::string_view bytes, std::string_view prefix) {
  return bytes.substr(0, prefix.size()) == prefix;
}

template <uint16_t Group, uint16_t Element>
uint64_t attribute_or(const gdcm::DataSet& ds, uint64_t fallback) {
  gdcm::Attribute<Group, Element> a{};
  if (!ds.FindDataElement(a.GetTag()) || ds.GetDataElement(a.GetTag()).IsEmpty()) return fallback;
  a.SetFromDataSet(ds);
  return static_cast<uint64_t>(a.GetValue());
}

std::string photometric_interpretation(const gdcm::DataSet& ds) {
  const gdcm::Tag tag(0x0028, 0x0004);
  if (!ds.FindDataElement(tag)) return "";
  const gdcm::ByteValue* bv = ds.GetDataElement(tag).GetByteValue();
  return bv ? std::string(bv->GetPointer(), bv->GetLength()) : "";
}

uint64_t number_of_frames(const gdcm::DataSet& ds) {
  const gdcm::Tag tag(0x0028, 0x0008);
  if (!ds.FindDataElement(tag)) return 1;
  const gdcm::ByteValue* bv = ds.GetDataElement(tag).GetByteValue();
  if (!bv) return 1;
  std::string text(bv->GetPointer(), bv->GetLength());
  try {
    long long n = std::stoll(text);
    return n > 0 ? static_cast<uint64_t>(n) : 1;
  } catch (...) {
    return 1;
  }
}

uint32_t read_u32(std::string_view b, bool big_endian) {
  auto u = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(b[i])); };
  return big_endian ? (u(0) << 24 | u(1) << 16 | u(2) << 8 | u(3)) : (u(3) << 24 | u(2) << 16 | u(1) << 8 | u(0));
}

// GDCM fills a pixel data value cut short by the end of the file as if it
// were complete. Find the element's header in the raw bytes (the candidate
// whose length field equals GDCM's) and check that its value fits.
bool pixel_value_fits(std::string_view bytes, uint32_t vl, bool big_endian) {
  const std::string_view tag =
      big_endian ? std::string_view("\x7f\xe0\x00\x10", 4) : std::string_view("\xe0\x7f\x10\x00", 4);
  for (size_t pos = bytes.find(tag); pos != std::string_view::npos; pos = bytes.find(tag, pos + 1)) {
    for (size_t header : {size_t{12}, size_t{8}}) {  // explicit VR, implicit VR
      if (pos + header > bytes.size()) continue;
      if (read_u32(bytes.substr(pos + header - 4, 4), big_endian) == vl)
        return pos + header + static_cast<uint64_t>(vl) <= bytes.size();
    }
  }
  return true;  // not found (e.g. deflated): nothing to judge by
}

// Native pixel data must be as long as the header says: GDCM accepts a file
// cut inside its pixel data without a word.
std::string check_pixel_length(const gdcm::DataSet& ds, std::string_view bytes, bool big_endian) {
  const gdcm::Tag pixel_data(0x7fe0, 0x0010);
  if (!ds.FindDataElement(pixel_data)) return "";
  const gdcm::DataElement& de = ds.GetDataElement(pixel_data);
  if (const gdcm::SequenceOfFragments* fragments = de.GetSequenceOfFragments()) {
    if (fragments->GetNumberOfFragments() == 0) return "encapsulated pixel data has no fragments";
    return "";
  }
  const gdcm::ByteValue* bv = de.GetByteValue();
  if (bv && !de.GetVL().IsUndefined() && !pixel_value_fits(bytes, de.GetVL(), big_endian))
    return "truncated file: pixel data ends before its declared length (" + std::to_string(uint32_t(de.GetVL())) +
           " bytes)";
  uint64_t actual = bv ? static_cast<uint64_t>(bv->GetLength()) : 0;
  uint64_t rows = attribute_or<0x0028, 0x0010>(ds, 0);
  uint64_t columns = attribute_or<0x0028, 0x0011>(ds, 0);
  uint64_t samples = attribute_or<0x0028, 0x0002>(ds, 1);
  uint64_t bits = attribute_or<0x0028, 0x0100>(ds, 0);
  uint64_t frames = number_of_frames(ds);
  if (rows == 0 || columns == 0 || bits == 0) return "";  // nothing declared to check against
  // 4:2:2 YBR keeps two values per pixel, 4:2:0 one and a half.
  std::string photometric = photometric_interpretation(ds);
  uint64_t values_per_pixel2 = samples * 2;  // doubled to keep 4:2:0 whole
  if (photometric.rfind("YBR_FULL_422", 0) == 0 || photometric.rfind("YBR_PARTIAL_422", 0) == 0) values_per_pixel2 = 4;
  if (photometric.rfind("YBR_PARTIAL_420", 0) == 0) values_per_pixel2 = 3;
  uint64_t expected = (rows * columns * values_per_pixel2 * frames * bits / 2 + 7) / 8;
  if (actual < expected)
    return "pixel data shorter than declared (" + std::to_string(actual) + " of " + std::to_string(expected) +
           " bytes)";
  return "";
}

}  // namespace

std::string_view sniff_other_format(std::string_view bytes) {
  if (starts_with(bytes, "%PDF")) return "a PDF document";
  if (starts_with(bytes, "\x89PNG\r\n\x1a\n")) return "a PNG image";
  if (starts_with(bytes, "\xff\xd8\xff")) return "a JPEG image";
  if (starts_with(bytes, "GIF8")) return "a GIF image";
  if (starts_with(bytes, "PK\x03\x04")) return "a ZIP archive";
  if (starts_with(bytes, "\x1f\x8b")) return "a gzip file";
  return "";
}

Verdict check_dicom(std::string_view bytes) {
  if (bytes.empty()) return {false, "empty file"};
  if (auto other = sniff_other_format(bytes); !other.empty())
    return {false, "not DICOM: the content is " + std::string(other)};
  // A preamble and "DICM" with nothing after them: Debian's GDCM asserts on it.
  bool part10 = bytes.size() >= kPreambleBytes + 4 && bytes.substr(kPreambleBytes, 4) == "DICM";
  if (part10 && bytes.size() <= kPreambleBytes + 4 + 8) return {false, "truncated file: nothing after the DICM prefix"};
  gdcm::Reader reader;
  if (!gdcm_support::read_full(reader, bytes)) {
    return {false, part10 ? "truncated or corrupt DICOM file" : "not a DICOM file"};
  }
  const gdcm::DataSet& ds = reader.GetFile().GetDataSet();
  if (ds.IsEmpty()) return {false, "DICOM file without a data set"};
  bool big_endian =
      reader.GetFile().GetHeader().GetDataSetTransferSyntax() == gdcm::TransferSyntax::ExplicitVRBigEndian;
  std::string pixel_problem = check_pixel_length(ds, bytes, big_endian);
  if (!pixel_problem.empty()) return {false, pixel_problem};
  return {true, ""};
}

}  // namespace dicomd::validator
