// The API's rules for study and file names (docs/api.md), shared by every
// plugin that takes names from a request: 1-255 bytes of valid UTF-8, no '/',
// '\', NUL or control characters, not starting with '.', and none of the
// code points that make two names look alike or reorder what is shown.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dicomd {

// The length of the well-formed UTF-8 sequence at s[i] (1 to 4), or 0 when
// there is none there (no overlongs, surrogates or > U+10FFFF).
inline size_t utf8_sequence_length(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
      (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

// True when `s` is well-formed UTF-8.
inline bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// `s` with each byte that starts no well-formed sequence replaced by
// U+FFFD: text a client sent, made fit for a JSON answer.
inline std::string to_valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

// Code points refused in names: combining marks of the generic combining
// blocks (an "é" written as e + U+0301 would be a second, look-alike name of
// the precomposed one; write names in NFC), bidirectional controls (a
// right-to-left override shows "evil\u202Egpj.exe" as "evilexe.jpg") and
// zero-width characters.
inline bool is_refused_code_point(uint32_t cp) {
  bool combining = (cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x1ab0 && cp <= 0x1aff) || (cp >= 0x1dc0 && cp <= 0x1dff) ||
                   (cp >= 0x20d0 && cp <= 0x20ff) || (cp >= 0xfe20 && cp <= 0xfe2f);
  bool bidi =
      cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
  bool zero_width = (cp >= 0x200b && cp <= 0x200d) || cp == 0x2060 || cp == 0xfeff;
  return combining || bidi || zero_width;
}

// Calls fn(code point) for each code point of valid UTF-8 `s`.
template <class Fn>
void for_each_code_point(std::string_view s, Fn&& fn) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : 4;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    fn(cp);
    i += n;
  }
}

inline bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '.') return false;
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f || c == '/' || c == '\\') return false;
  if (!is_valid_utf8(name)) return false;
  bool ok = true;
  for_each_code_point(name, [&](uint32_t cp) {
    if ((cp >= 0x80 && cp <= 0x9f) || is_refused_code_point(cp)) ok = false;  // C1 controls, and the above
  });
  return ok;
}

// The last path component of a client-supplied file name: browsers may send
// "C:\x\IM1" or "../../x.dcm".
inline std::string_view base_name(std::string_view name) {
  size_t cut = name.find_last_of("/\\");
  return cut == std::string_view::npos ? name : name.substr(cut + 1);
}

}  // namespace dicomd
