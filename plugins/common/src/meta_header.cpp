#include "meta_header.h"

#include <cstdint>

namespace dicomd::gdcm_support {
namespace {

constexpr size_t kPreamble = 128;

uint16_t u16(std::string_view b, size_t at) {
  return static_cast<uint16_t>(static_cast<unsigned char>(b[at]) | static_cast<unsigned char>(b[at + 1]) << 8);
}
uint32_t u32(std::string_view b, size_t at) {
  return static_cast<uint32_t>(u16(b, at)) | static_cast<uint32_t>(u16(b, at + 2)) << 16;
}

}  // namespace

bool has_long_length(std::string_view vr) {
  for (std::string_view v : {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})
    if (vr == v) return true;
  return false;
}

std::optional<MetaHeader> read_meta_header(std::string_view bytes) {
  if (bytes.size() < kPreamble + 4 || bytes.substr(kPreamble, 4) != "DICM") return std::nullopt;
  MetaHeader meta;
  size_t pos = kPreamble + 4;
  while (pos + 8 <= bytes.size() && u16(bytes, pos) == 0x0002) {
    uint16_t element = u16(bytes, pos + 2);
    std::string_view vr = bytes.substr(pos + 4, 2);
    if (!is_vr_letter(vr[0]) || !is_vr_letter(vr[1])) return std::nullopt;
    size_t header = 8;
    uint64_t length = u16(bytes, pos + 6);
    if (has_long_length(vr)) {
      if (pos + 12 > bytes.size()) return std::nullopt;
      header = 12;
      length = u32(bytes, pos + 8);
    }
    if (pos + header + length > bytes.size()) return std::nullopt;
    if (element == 0x0010) {
      std::string_view uid = bytes.substr(pos + header, length);
      while (!uid.empty() && (uid.back() == '\0' || uid.back() == ' ')) uid.remove_suffix(1);
      meta.transfer_syntax = std::string(uid);
    }
    pos += header + length;
  }
  meta.dataset_offset = pos;
  return meta;
}

std::optional<bool> element_has_explicit_vr(std::string_view bytes, size_t offset) {
  if (offset + 8 > bytes.size()) return std::nullopt;
  return is_vr_letter(bytes[offset + 4]) && is_vr_letter(bytes[offset + 5]);
}

}  // namespace dicomd::gdcm_support
