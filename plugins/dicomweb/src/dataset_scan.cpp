#include "echo.h"
#include "dataset_scan.h"

#include "meta_header.h"

namespace dicomd::dicomweb {
namespace {

constexpr int kMaxDepth = 64;
constexpr uint32_t kItem = 0xFFFEE000, kItemEnd = 0xFFFEE00D, kSequenceEnd = 0xFFFEE0DD;

struct Reader {
  std::string_view bytes;
  bool big_endian;

  uint16_t u16(size_t at) const {
    auto b = [&](size_t i) { return static_cast<uint16_t>(static_cast<unsigned char>(bytes[at + i])); };
    return big_endian ? static_cast<uint16_t>(b(0) << 8 | b(1)) : static_cast<uint16_t>(b(1) << 8 | b(0));
  }
  uint32_t u32(size_t at) const {
    uint32_t lo = u16(at), hi = u16(at + 2);
    return big_endian ? lo << 16 | hi : hi << 16 | lo;
  }
  // The tag at `at`: the group and element each in the data set's order.
  uint32_t tag(size_t at) const { return static_cast<uint32_t>(u16(at)) << 16 | u16(at + 2); }
};

using gdcm_support::has_long_length;
using gdcm_support::is_vr_letter;

// Reads one element header at `pos`; false when it runs past the end.
bool read_element(const Reader& r, size_t pos, bool explicit_vr, ScannedElement& e) {
  if (pos + 8 > r.bytes.size()) return false;
  e.tag = r.tag(pos);
  e.vr[0] = e.vr[1] = 0;
  // Item and delimiter tags never carry a VR, whatever the syntax.
  if (!explicit_vr || (e.tag >> 16) == 0xFFFE) {
    e.length = r.u32(pos + 4);
    e.value_offset = pos + 8;
    return true;
  }
  std::string_view vr = r.bytes.substr(pos + 4, 2);
  if (!is_vr_letter(vr[0]) || !is_vr_letter(vr[1])) return false;
  e.vr[0] = vr[0];
  e.vr[1] = vr[1];
  if (has_long_length(vr)) {
    if (pos + 12 > r.bytes.size()) return false;
    e.length = r.u32(pos + 8);
    e.value_offset = pos + 12;
  } else {
    e.length = r.u16(pos + 6);
    e.value_offset = pos + 8;
  }
  return true;
}

// The offset just past a delimited (undefined-length) sequence or item
// list starting at `pos`; nullopt when malformed. Items of explicit-VR data
// hold explicit-VR elements, except inside UN, which is implicit (PS3.5 6.2.2).
std::optional<size_t> skip_delimited(const Reader& r, size_t pos, bool explicit_vr, int depth);

// The offset just past the elements from `pos` up to `end` (a defined
// length), or up to an item delimiter when `end` is npos.
std::optional<size_t> skip_elements(const Reader& r, size_t pos, size_t end, bool explicit_vr, int depth) {
  if (depth > kMaxDepth) return std::nullopt;
  while (end == std::string_view::npos || pos < end) {
    ScannedElement e;
    if (!read_element(r, pos, explicit_vr, e)) return std::nullopt;
    if (e.tag == kItemEnd) {
      if (end != std::string_view::npos) return std::nullopt;
      return e.value_offset;
    }
    if (e.length == kUndefinedLength) {
      bool inner_explicit = explicit_vr && std::string_view(e.vr) != "UN";
      auto next = skip_delimited(r, e.value_offset, inner_explicit, depth + 1);
      if (!next) return std::nullopt;
      pos = *next;
    } else {
      if (e.value_offset + e.length > r.bytes.size()) return std::nullopt;
      pos = e.value_offset + e.length;
    }
  }
  return pos == end ? std::optional<size_t>(pos) : std::nullopt;
}

std::optional<size_t> skip_delimited(const Reader& r, size_t pos, bool explicit_vr, int depth) {
  if (depth > kMaxDepth) return std::nullopt;
  for (;;) {
    ScannedElement item;
    if (!read_element(r, pos, false, item)) return std::nullopt;
    if (item.tag == kSequenceEnd) return item.value_offset;
    if (item.tag != kItem) return std::nullopt;
    if (item.length == kUndefinedLength) {
      auto next = skip_elements(r, item.value_offset, std::string_view::npos, explicit_vr, depth + 1);
      if (!next) return std::nullopt;
      pos = *next;
    } else {
      // A defined-length item (or a fragment of encapsulated data) is skipped whole.
      if (item.value_offset + item.length > r.bytes.size()) return std::nullopt;
      pos = item.value_offset + item.length;
    }
  }
}

}  // namespace

const ScannedElement* ScannedDataset::find(uint32_t tag) const {
  for (const auto& e : elements)
    if (e.tag == tag) return &e;
  return nullptr;
}

std::string_view ScannedDataset::text(std::string_view bytes, uint32_t tag) const {
  const ScannedElement* e = find(tag);
  if (!e || e->length == kUndefinedLength) return {};
  std::string_view v = bytes.substr(e->value_offset, e->length);
  while (!v.empty() && (v.back() == '\0' || v.back() == ' ')) v.remove_suffix(1);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  return v;
}

std::optional<uint32_t> ScannedDataset::number(std::string_view bytes, uint32_t tag) const {
  const ScannedElement* e = find(tag);
  if (!e) return std::nullopt;
  Reader r{bytes, big_endian};
  if (e->length == 2) return r.u16(e->value_offset);
  if (e->length == 4) return r.u32(e->value_offset);
  return std::nullopt;
}

std::optional<ScannedDataset> scan_dataset(std::string_view bytes, uint32_t last_tag, ScanError& error) {
  auto meta = gdcm_support::read_meta_header(bytes);
  if (!meta) {
    error.reason = "not a DICOM Part 10 file (no DICM prefix or a malformed meta header)";
    return std::nullopt;
  }
  if (gdcm_support::is_deflated_syntax(meta->transfer_syntax)) {
    error.reason = "a deflated data set (transfer syntax " + echo(meta->transfer_syntax) + ")";
    return std::nullopt;
  }
  ScannedDataset out;
  out.transfer_syntax = meta->transfer_syntax;
  out.big_endian = meta->transfer_syntax == "1.2.840.10008.1.2.2";
  out.explicit_vr = !gdcm_support::is_implicit_vr_syntax(meta->transfer_syntax);
  // Files that say explicit VR and are implicit (pydicom's SC_rgb_jpeg.dcm):
  // the first element decides.
  if (auto has_vr = gdcm_support::element_has_explicit_vr(bytes, meta->dataset_offset)) out.explicit_vr = *has_vr;
  Reader r{bytes, out.big_endian};
  size_t pos = meta->dataset_offset;
  while (pos < bytes.size()) {
    ScannedElement e;
    if (!read_element(r, pos, out.explicit_vr, e)) {
      error.reason = "a data element runs past the end of the file";
      return std::nullopt;
    }
    // Checked before it is kept: every element handed out lies in the file.
    if (e.length != kUndefinedLength && e.value_offset + e.length > bytes.size()) {
      error.reason = "a data element runs past the end of the file";
      return std::nullopt;
    }
    out.elements.push_back(e);
    if (e.tag >= last_tag) return out;
    if (e.length == kUndefinedLength) {
      bool inner_explicit = out.explicit_vr && std::string_view(e.vr) != "UN";
      auto next = skip_delimited(r, e.value_offset, inner_explicit, 0);
      if (!next) {
        error.reason = "a malformed sequence";
        return std::nullopt;
      }
      pos = *next;
    } else {
      pos = e.value_offset + e.length;
    }
  }
  return out;
}

}  // namespace dicomd::dicomweb
