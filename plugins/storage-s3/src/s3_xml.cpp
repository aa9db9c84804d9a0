#include "s3_xml.h"

#include <charconv>
#include <cstdint>

namespace dicomd::s3 {
namespace {

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// A character reference's code point ("#65", "#x41"), or nullopt.
std::optional<uint32_t> char_ref(std::string_view ref) {
  if (ref.size() < 2 || ref[0] != '#') return std::nullopt;
  int base = 10;
  ref.remove_prefix(1);
  if (ref[0] == 'x') {
    base = 16;
    ref.remove_prefix(1);
  }
  uint32_t cp = 0;
  auto [end, ec] = std::from_chars(ref.data(), ref.data() + ref.size(), cp, base);
  if (ec != std::errc() || end != ref.data() + ref.size() || ref.empty()) return std::nullopt;
  if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return std::nullopt;
  return cp;
}

}  // namespace

std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  // (Appended, not "<" + std::string(tag): GCC 12 warns falsely on that.)
  std::string open("<"), close("</");
  open.append(tag).append(">");
  close.append(tag).append(">");
  size_t at = 0;
  while ((at = xml.find(open, at)) != std::string_view::npos) {
    size_t start = at + open.size();
    size_t end = xml.find(close, start);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(start, end - start));
    at = end + close.size();
  }
  return out;
}

std::optional<std::string> xml_text(std::string_view xml, std::string_view tag) {
  auto found = xml_elements(xml, tag);
  if (found.empty()) return std::nullopt;
  return xml_decode(found.front());
}

std::optional<std::string> xml_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    size_t amp = text.find('&');
    out.append(text.substr(0, amp));
    if (amp == std::string_view::npos) break;
    size_t semi = text.find(';', amp);
    if (semi == std::string_view::npos) return std::nullopt;
    std::string_view name = text.substr(amp + 1, semi - amp - 1);
    if (name == "amp")
      out += '&';
    else if (name == "lt")
      out += '<';
    else if (name == "gt")
      out += '>';
    else if (name == "quot")
      out += '"';
    else if (name == "apos")
      out += '\'';
    else if (auto cp = char_ref(name))
      append_utf8(out, *cp);
    else
      return std::nullopt;
    text.remove_prefix(semi + 1);
  }
  return out;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return out;
}

}  // namespace dicomd::s3
