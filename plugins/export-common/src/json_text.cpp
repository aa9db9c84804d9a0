#include "json_text.h"

#include <charconv>
#include <random>

#include <dicomd/cpp/names.hpp>

namespace dicomd::exporter {

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < text.size();) {
    // Plain printable ASCII, nearly all of it (ids, names, routes), goes in one append.
    size_t plain = i;
    while (plain < text.size()) {
      unsigned char p = static_cast<unsigned char>(text[plain]);
      if (p < 0x20 || p >= 0x7f || p == '"' || p == '\\') break;
      ++plain;
    }
    if (plain > i) {
      out.append(text.substr(i, plain - i));
      i = plain;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      size_t n = utf8_sequence_length(text, i);
      if (n == 0) {
        out += "\xEF\xBF\xBD";
        ++i;
      } else {
        out.append(text.substr(i, n));
        i += n;
      }
      continue;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  out += '"';
}

void append_string_field(std::string& out, std::string_view key, std::string_view value, bool first) {
  if (!first) out += ',';
  append_json_string(out, key);
  out += ':';
  append_json_string(out, value);
}

void append_uint(std::string& out, uint64_t value) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
}

void append_hex16(std::string& out, uint64_t id) {
  static constexpr char kHex[] = "0123456789abcdef";
  char text[16];
  for (int i = 14; i >= 0; i -= 2, id >>= 8) {  // a byte at a time
    text[i] = kHex[(id >> 4) & 15];
    text[i + 1] = kHex[id & 15];
  }
  out.append(text, 16);
}

std::string random_hex32() {
  thread_local std::mt19937_64 g{(static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (size_t half = 0; half < 2; ++half) {
    uint64_t v = g();
    for (size_t i = 0; i < 16; ++i, v >>= 4) out[half * 16 + i] = kHex[v & 15];
  }
  return out;
}

}  // namespace dicomd::exporter
