#include "charset.h"

#include <iconv.h>

#include <cerrno>
#include <cstring>
#include <map>

#include <dicomd/cpp/names.hpp>

namespace dicomd::metadata {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

struct TermInfo {
  const char* g0;  // iconv name for G0 (7-bit) bytes, or nullptr
  const char* g1;  // iconv name for G1 (high-bit) bytes, or nullptr
};

// Defined Terms of (0008,0005) without and with code extensions. JIS X 0201
// is decoded as SHIFT_JIS, whose single bytes are exactly JIS X 0201 (glibc
// has no converter of that name).
const std::map<std::string, TermInfo, std::less<>>& terms() {
  static const std::map<std::string, TermInfo, std::less<>> table = {
      {"", {"ASCII", nullptr}},
      {"ISO_IR 6", {"ASCII", nullptr}},
      {"ISO 2022 IR 6", {"ASCII", nullptr}},
      {"ISO_IR 100", {"ASCII", "ISO-8859-1"}},
      {"ISO 2022 IR 100", {"ASCII", "ISO-8859-1"}},
      {"ISO_IR 101", {"ASCII", "ISO-8859-2"}},
      {"ISO 2022 IR 101", {"ASCII", "ISO-8859-2"}},
      {"ISO_IR 109", {"ASCII", "ISO-8859-3"}},
      {"ISO 2022 IR 109", {"ASCII", "ISO-8859-3"}},
      {"ISO_IR 110", {"ASCII", "ISO-8859-4"}},
      {"ISO 2022 IR 110", {"ASCII", "ISO-8859-4"}},
      {"ISO_IR 144", {"ASCII", "ISO-8859-5"}},
      {"ISO 2022 IR 144", {"ASCII", "ISO-8859-5"}},
      {"ISO_IR 127", {"ASCII", "ISO-8859-6"}},
      {"ISO 2022 IR 127", {"ASCII", "ISO-8859-6"}},
      {"ISO_IR 126", {"ASCII", "ISO-8859-7"}},
      {"ISO 2022 IR 126", {"ASCII", "ISO-8859-7"}},
      {"ISO_IR 138", {"ASCII", "ISO-8859-8"}},
      {"ISO 2022 IR 138", {"ASCII", "ISO-8859-8"}},
      {"ISO_IR 148", {"ASCII", "ISO-8859-9"}},
      {"ISO 2022 IR 148", {"ASCII", "ISO-8859-9"}},
      {"ISO_IR 203", {"ASCII", "ISO-8859-15"}},
      {"ISO 2022 IR 203", {"ASCII", "ISO-8859-15"}},
      {"ISO_IR 166", {"ASCII", "TIS-620"}},
      {"ISO 2022 IR 166", {"ASCII", "TIS-620"}},
      {"ISO_IR 13", {"SHIFT_JIS", "SHIFT_JIS"}},
      {"ISO 2022 IR 13", {"SHIFT_JIS", "SHIFT_JIS"}},
      {"ISO 2022 IR 87", {"ASCII", nullptr}},
      {"ISO 2022 IR 159", {"ASCII", nullptr}},
      {"ISO 2022 IR 149", {"ASCII", "EUC-KR"}},
      {"ISO 2022 IR 58", {"ASCII", "GB2312"}},
  };
  return table;
}

// Escape sequences of PS3.3 C.12.1.1.2, and what they designate.
struct Escape {
  std::string_view bytes;  // after ESC
  bool g1;                 // designates G1 (else G0)
  const char* charset;     // iconv name; "JIS0208" and "JIS0212" are special
};
constexpr Escape kEscapes[] = {
    {"(B", false, "ASCII"},      {"(J", false, "SHIFT_JIS"}, {")I", true, "SHIFT_JIS"},  {"$B", false, "JIS0208"},
    {"$(D", false, "JIS0212"},   {"$)C", true, "EUC-KR"},    {"$)A", true, "GB2312"},    {"-A", true, "ISO-8859-1"},
    {"-B", true, "ISO-8859-2"},  {"-C", true, "ISO-8859-3"}, {"-D", true, "ISO-8859-4"}, {"-L", true, "ISO-8859-5"},
    {"-G", true, "ISO-8859-6"},  {"-F", true, "ISO-8859-7"}, {"-H", true, "ISO-8859-8"}, {"-M", true, "ISO-8859-9"},
    {"-b", true, "ISO-8859-15"}, {"-T", true, "TIS-620"},
};

void append_decoded(std::string& out, std::string_view run, const std::string& charset) {
  if (run.empty()) return;
  if (charset == "JIS0208" || charset == "JIS0212") {
    // 7-bit JIS X 0208/0212 pairs are EUC-JP with the high bit set (0212 with an SS3 prefix).
    std::string euc;
    for (size_t i = 0; i + 1 < run.size(); i += 2) {
      if (charset == "JIS0212") euc += '\x8f';
      euc += static_cast<char>(run[i] | 0x80);
      euc += static_cast<char>(run[i + 1] | 0x80);
    }
    if (run.size() % 2) euc += '?';
    out += convert_to_utf8(euc, "EUC-JP");
    return;
  }
  out += convert_to_utf8(run, charset == "ASCII" ? "ISO-8859-1" : charset);
}

}  // namespace

std::string convert_to_utf8(std::string_view bytes, const std::string& from_charset) {
  bool ascii = true;
  for (unsigned char c : bytes) ascii = ascii && c < 0x80;
  if (ascii) return std::string(bytes);
  if (from_charset == "UTF-8") {
    if (is_valid_utf8(bytes)) return std::string(bytes);
  }
  iconv_t cd = ::iconv_open("UTF-8", from_charset.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) cd = ::iconv_open("UTF-8", "ISO-8859-1");
  std::string out;
  char buffer[1024];
  char* in = const_cast<char*>(bytes.data());
  size_t in_left = bytes.size();
  while (in_left > 0) {
    char* dst = buffer;
    size_t dst_left = sizeof buffer;
    size_t rc = ::iconv(cd, &in, &in_left, &dst, &dst_left);
    out.append(buffer, static_cast<size_t>(dst - buffer));
    if (rc == static_cast<size_t>(-1) && errno != E2BIG) {
      out += kReplacement;  // invalid or incomplete sequence: skip one byte
      ++in;
      --in_left;
    }
  }
  ::iconv_close(cd);
  return out;
}

CharsetDecoder::CharsetDecoder(std::vector<std::string> values) {
  default_g0_ = "ASCII";
  for (auto& v : values) {
    while (!v.empty() && (v.back() == ' ' || v.back() == '\0')) v.pop_back();
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
  }
  std::string first = values.empty() ? "" : values[0];
  iso2022_ = values.size() > 1 || first.rfind("ISO 2022", 0) == 0;
  if (first == "ISO_IR 192") {
    default_g0_ = "UTF-8";
  } else if (first == "GB18030" || first == "GBK") {
    default_g0_ = first;
  } else if (auto it = terms().find(first); it != terms().end()) {
    default_g0_ = it->second.g0 ? it->second.g0 : "ASCII";
    default_g1_ = it->second.g1 ? it->second.g1 : "";
  } else {
    default_g1_ = "ISO-8859-1";  // unknown term: keep bytes readable
  }
}

std::string CharsetDecoder::decode(std::string_view bytes, bool person_name) const {
  if (!iso2022_) {
    if (default_g0_ == "UTF-8" || default_g0_ == "GB18030" || default_g0_ == "GBK")
      return convert_to_utf8(bytes, default_g0_);
    return convert_to_utf8(bytes, default_g1_.empty() ? "ISO-8859-1" : default_g1_);
  }
  std::string out;
  std::string g0 = default_g0_, g1 = default_g1_.empty() ? "ISO-8859-1" : default_g1_;
  size_t run_start = 0;
  bool run_high = false;  // current run holds G1 (high-bit) bytes
  auto flush = [&](size_t end) {
    append_decoded(out, bytes.substr(run_start, end - run_start), run_high ? g1 : g0);
    run_start = end;
  };
  for (size_t i = 0; i < bytes.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c == 0x1b) {
      flush(i);
      const Escape* found = nullptr;
      for (const Escape& e : kEscapes)
        if (bytes.substr(i + 1, e.bytes.size()) == e.bytes) found = &e;
      size_t skip = found ? found->bytes.size() : 0;
      if (found) (found->g1 ? g1 : g0) = found->charset;
      i += skip;
      run_start = i + 1;
      continue;
    }
    bool high = c >= 0x80;
    if (high != run_high && !(g0 == "JIS0208" || g0 == "JIS0212")) {
      flush(i);
      run_high = high;
    }
    // PN delimiters and control characters reset G0 to the initial set.
    bool single_byte_g0 = !(g0 == "JIS0208" || g0 == "JIS0212");
    if (single_byte_g0 && !high && ((person_name && (c == '^' || c == '=')) || c == '\r' || c == '\n' || c == '\t')) {
      flush(i + 1);
      g0 = default_g0_;
    }
  }
  flush(bytes.size());
  return out;
}

}  // namespace dicomd::metadata
