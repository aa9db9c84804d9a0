// The top-level elements of a Part 10 file, walked in its raw bytes: what
// DICOMweb needs without a full parse (the UIDs a STOW part is stored under,
// the pixel data and the image's shape for /frames). Pure byte arithmetic
// with every length checked, so it runs in the server on untrusted bytes
// (GDCM may abort on them: docs/library-notes.md). Nested sequences are
// skipped, never interpreted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dicomd::dicomweb {

inline constexpr uint64_t kUndefinedLength = 0xFFFFFFFF;

struct ScannedElement {
  uint32_t tag = 0;        // group << 16 | element
  char vr[3] = {0, 0, 0};  // "" for implicit VR
  size_t value_offset = 0;
  uint64_t length = 0;  // kUndefinedLength: an encapsulated or delimited value
};

struct ScannedDataset {
  std::string transfer_syntax;
  bool explicit_vr = true;
  bool big_endian = false;
  std::vector<ScannedElement> elements;  // top level, file order, up to `last_tag`
  // The element, or null.
  const ScannedElement* find(uint32_t tag) const;
  // A text element's value without padding, or empty.
  std::string_view text(std::string_view bytes, uint32_t tag) const;
  // An unsigned binary value (US or UL), or nullopt.
  std::optional<uint32_t> number(std::string_view bytes, uint32_t tag) const;
};

struct ScanError {
  std::string reason;
};

// Walks `bytes` (a whole Part 10 file) up to and including the first
// element whose tag is at least `last_tag`, or to the end. nullopt with
// `error` set when it is not a Part 10 file, a length runs past the end, the
// data set is deflated (error says so) or nesting is deeper than 64.
std::optional<ScannedDataset> scan_dataset(std::string_view bytes, uint32_t last_tag, ScanError& error);

}  // namespace dicomd::dicomweb
