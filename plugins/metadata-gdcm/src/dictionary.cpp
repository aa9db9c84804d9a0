#include "dictionary.h"

#include <cctype>
#include <cstdio>
#include <unordered_map>

#include <gdcmDicts.h>
#include <gdcmGlobal.h>

namespace dicomd::metadata {
namespace {

const gdcm::Dicts& dicts() {
  return gdcm::Global::GetInstance().GetDicts();
}

// Keyword -> tag, built once: GDCM's own lookup scans the whole dictionary.
const std::unordered_map<std::string, gdcm::Tag>& keywords() {
  static const std::unordered_map<std::string, gdcm::Tag> table = [] {
    std::unordered_map<std::string, gdcm::Tag> t;
    const gdcm::Dict& d = dicts().GetPublicDict();
    for (auto it = d.Begin(); it != d.End(); ++it) {
      const char* kw = it->second.GetKeyword();
      if (kw && *kw && !it->second.GetRetired()) t.emplace(kw, it->first);
    }
    for (auto it = d.Begin(); it != d.End(); ++it) {  // retired ones where no current one has the keyword
      const char* kw = it->second.GetKeyword();
      if (kw && *kw) t.emplace(kw, it->first);
    }
    return t;
  }();
  return table;
}

std::optional<uint32_t> parse_hex(std::string_view s) {
  if (s.empty() || s.size() > 4) return std::nullopt;
  uint32_t v = 0;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v * 16 +
        static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (std::tolower(c) - 'a' + 10));
  }
  return v;
}

std::optional<gdcm::Tag> from_parts(std::string_view group, std::string_view element) {
  if (group.size() != 4 || element.size() != 4) return std::nullopt;
  auto g = parse_hex(group), e = parse_hex(element);
  if (!g || !e) return std::nullopt;
  return gdcm::Tag(static_cast<uint16_t>(*g), static_cast<uint16_t>(*e));
}

}  // namespace

std::optional<gdcm::Tag> parse_tag_spec(std::string_view spec) {
  while (!spec.empty() && spec.front() == ' ') spec.remove_prefix(1);
  while (!spec.empty() && spec.back() == ' ') spec.remove_suffix(1);
  if (spec.size() >= 2 && spec.front() == '(' && spec.back() == ')') spec = spec.substr(1, spec.size() - 2);
  size_t comma = spec.find(',');
  if (comma != std::string_view::npos) {
    std::string_view element = spec.substr(comma + 1);
    while (!element.empty() && element.front() == ' ') element.remove_prefix(1);
    return from_parts(spec.substr(0, comma), element);
  }
  if (spec.size() == 8)
    if (auto t = from_parts(spec.substr(0, 4), spec.substr(4))) return t;
  auto it = keywords().find(std::string(spec));
  if (it == keywords().end()) return std::nullopt;
  return it->second;
}

bool is_public_dictionary_tag(const gdcm::Tag& tag) {
  if (tag.IsPrivate() || tag.IsPrivateCreator()) return false;
  if (tag.IsGroupLength()) return true;
  const gdcm::Dict& d = dicts().GetPublicDict();
  if (d.GetKeywordFromTag(tag)) return true;
  uint16_t g = tag.GetGroup();
  if ((g & 0xff00) == 0x5000 || (g & 0xff00) == 0x6000)  // repeating groups: 50xx curves, 60xx overlays
    return d.GetKeywordFromTag(gdcm::Tag(g & 0xff00, tag.GetElement())) != nullptr;
  return false;
}

TagInfo lookup(const gdcm::Tag& tag, const std::string& private_creator) {
  TagInfo info;
  if (tag.IsPrivateCreator()) {
    return {"", "Private Creator", gdcm::VR::LO};
  }
  if (tag.IsPrivate()) {
    const gdcm::DictEntry& e = dicts().GetDictEntry(tag, private_creator.empty() ? nullptr : private_creator.c_str());
    std::string name = e.GetName() ? e.GetName() : "";
    return {"", name.empty() ? "Private tag data" : name, e.GetVR()};
  }
  gdcm::Tag key = tag;
  uint16_t g = tag.GetGroup();
  if (!dicts().GetPublicDict().GetKeywordFromTag(tag) && ((g & 0xff00) == 0x5000 || (g & 0xff00) == 0x6000))
    key = gdcm::Tag(g & 0xff00, tag.GetElement());
  const gdcm::DictEntry& e = dicts().GetDictEntry(key);
  info.keyword = e.GetKeyword() ? e.GetKeyword() : "";
  info.name = e.GetName() ? e.GetName() : "";
  info.vr = e.GetVR();
  if (tag.IsGroupLength()) {
    info.keyword = tag.GetGroup() == 0x0002 ? "FileMetaInformationGroupLength" : "GenericGroupLength";
    info.name = tag.GetGroup() == 0x0002 ? "File Meta Information Group Length" : "Generic Group Length";
    info.vr = gdcm::VR::UL;
  }
  return info;
}

std::string tag_string(const gdcm::Tag& tag) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "(%04X,%04X)", tag.GetGroup(), tag.GetElement());
  return buf;
}

}  // namespace dicomd::metadata
