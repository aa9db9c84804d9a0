// The Part 10 file meta information (group 0002, always explicit VR little
// endian), read from raw bytes: the transfer syntax and where the data set
// starts. Pure byte arithmetic, safe on untrusted bytes; lets a caller decide
// before GDCM parses anything (a deflated data set, an encoding that
// contradicts its transfer syntax).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace dicomd::gdcm_support {

struct MetaHeader {
  std::string transfer_syntax;  // (0002,0010) without padding; empty when absent
  size_t dataset_offset = 0;    // the first byte after group 0002
};

// nullopt when `bytes` is not a Part 10 file (no "DICM" at 128) or its meta
// group is malformed.
std::optional<MetaHeader> read_meta_header(std::string_view bytes);

// Whether the data element at `offset` carries an explicit VR (two upper-case
// letters after its tag). nullopt when there is no element there.
std::optional<bool> element_has_explicit_vr(std::string_view bytes, size_t offset);

// Two upper-case letters, as an explicit VR is written.
inline bool is_vr_letter(char c) {
  return c >= 'A' && c <= 'Z';
}
// VRs whose length field is 4 bytes after 2 reserved ones (PS3.5 7.1.2).
bool has_long_length(std::string_view vr);

// Transfer syntaxes whose data set is implicit VR (just one today).
inline bool is_implicit_vr_syntax(std::string_view uid) {
  return uid == "1.2.840.10008.1.2";
}
inline bool is_deflated_syntax(std::string_view uid) {
  return uid == "1.2.840.10008.1.2.1.99";
}

}  // namespace dicomd::gdcm_support
