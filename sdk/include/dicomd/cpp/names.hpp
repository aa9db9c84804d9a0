// The API's rules for study and file names (docs/api.md), shared by every
// plugin that takes names from a request: 1-255 bytes of valid UTF-8, no '/',
// '\', NUL or control characters, not starting with '.'.
#pragma once

#include <cstdint>
#include <string_view>

namespace dicomd {

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF).
inline bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n;
  }
  return true;
}

inline bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '.') return false;
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f || c == '/' || c == '\\') return false;
  if (!is_valid_utf8(name)) return false;
  // C1 control characters (U+0080..U+009F) are encoded as C2 80..C2 9F.
  for (size_t i = 0; i + 1 < name.size(); ++i)
    if (static_cast<unsigned char>(name[i]) == 0xc2 && static_cast<unsigned char>(name[i + 1]) < 0xa0) return false;
  return true;
}

// The last path component of a client-supplied file name: browsers may send
// "C:\x\IM1" or "../../x.dcm".
inline std::string_view base_name(std::string_view name) {
  size_t cut = name.find_last_of("/\\");
  return cut == std::string_view::npos ? name : name.substr(cut + 1);
}

}  // namespace dicomd
