#include "pixel_data_element.h"

namespace dicomd::gdcm_support {
namespace {

uint32_t read_u32(std::string_view b, size_t at, bool big_endian) {
  auto u = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(b[at + i])); };
  return big_endian ? (u(0) << 24 | u(1) << 16 | u(2) << 8 | u(3)) : (u(3) << 24 | u(2) << 16 | u(1) << 8 | u(0));
}

uint16_t read_u16_le(std::string_view b, size_t at) {
  return static_cast<uint16_t>(static_cast<unsigned char>(b[at]) | static_cast<unsigned char>(b[at + 1]) << 8);
}

// The element at `pos` read with one layout; nullopt when it cannot be that.
std::optional<PixelDataElement> element_at(std::string_view bytes, size_t pos, bool big_endian, bool explicit_vr,
                                           uint64_t file_size) {
  size_t header = explicit_vr ? 12 : 8;
  if (pos + header > bytes.size()) return std::nullopt;
  PixelDataElement e;
  if (explicit_vr) {
    e.vr = std::string(bytes.substr(pos + 4, 2));
    if (e.vr[0] < 'A' || e.vr[0] > 'Z' || e.vr[1] < 'A' || e.vr[1] > 'Z' || bytes[pos + 6] != 0 || bytes[pos + 7] != 0)
      return std::nullopt;  // not a VR with a 4-byte length
  } else {
    e.vr = "OW";
  }
  uint32_t vl = read_u32(bytes, pos + header - 4, big_endian);
  e.value_offset = pos + header;
  e.encapsulated = vl == 0xffffffffu;
  e.length = e.encapsulated ? file_size - e.value_offset : vl;
  e.fits = e.value_offset + e.length <= file_size;
  return e;
}

}  // namespace

std::optional<PixelDataElement> locate_pixel_data(std::string_view bytes, size_t stop, bool big_endian,
                                                  bool explicit_vr, uint64_t file_size) {
  if (file_size == kWholeFile || file_size < bytes.size()) file_size = bytes.size();
  std::string_view tag = big_endian ? std::string_view("\x7f\xe0\x00\x10", 4) : std::string_view("\xe0\x7f\x10\x00", 4);
  size_t pos = bytes.find(tag, stop > 16 ? stop - 16 : 0);
  if (pos == std::string_view::npos || pos > stop + 16) return std::nullopt;
  auto declared = element_at(bytes, pos, big_endian, explicit_vr, file_size);
  if (declared && declared->fits) return declared;
  auto other = element_at(bytes, pos, big_endian, !explicit_vr, file_size);
  if (other && other->fits) return other;
  return declared ? declared : other;
}

std::optional<std::vector<std::string_view>> pixel_fragments(std::string_view bytes, const PixelDataElement& e) {
  std::vector<std::string_view> fragments;
  size_t pos = e.value_offset;
  bool offset_table = true;
  while (pos + 8 <= bytes.size()) {
    uint16_t group = read_u16_le(bytes, pos), element = read_u16_le(bytes, pos + 2);
    uint32_t length = read_u32(bytes, pos + 4, false);
    if (group != 0xfffe) return std::nullopt;
    if (element == 0xe0dd) return fragments;  // sequence delimiter
    if (element != 0xe000 || length == 0xffffffffu || pos + 8 + uint64_t{length} > bytes.size()) return std::nullopt;
    if (!offset_table) fragments.push_back(bytes.substr(pos + 8, length));
    offset_table = false;
    pos += 8 + length;
  }
  return std::nullopt;  // no sequence delimiter before the end
}

}  // namespace dicomd::gdcm_support
