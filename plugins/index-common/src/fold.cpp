#include "fold.h"

#include <unicase.h>
#include <unictype.h>
#include <unistr.h>

#include <cstdlib>
#include <memory>

namespace dicomd::index {

std::string fold(std::string_view utf8) {
  const auto* in = reinterpret_cast<const uint8_t*>(utf8.data());
  if (u8_check(in, utf8.size()) != nullptr) return "";
  size_t length = 0;
  uint8_t* folded = u8_casefold(in, utf8.size(), nullptr, UNINORM_NFKD, nullptr, &length);
  if (!folded) return "";
  std::unique_ptr<uint8_t, decltype(&std::free)> owned(folded, &std::free);
  std::string out;
  out.reserve(length);
  for (size_t i = 0; i < length;) {
    ucs4_t c = 0;
    int n = u8_mbtouc(&c, folded + i, length - i);
    if (n <= 0) break;
    if (!uc_is_general_category(c, UC_CATEGORY_Mn))
      out.append(reinterpret_cast<const char*>(folded + i), static_cast<size_t>(n));
    i += static_cast<size_t>(n);
  }
  return out;
}

std::vector<NameComponents> person_name_groups(std::string_view value) {
  std::vector<NameComponents> groups;
  while (true) {
    size_t end = value.find('=');
    std::string_view group = value.substr(0, end);
    NameComponents components;
    bool any = false;
    for (size_t i = 0; i < components.size() && !group.empty(); ++i) {
      size_t caret = i + 1 < components.size() ? group.find('^') : std::string_view::npos;
      std::string_view part = group.substr(0, caret);
      while (!part.empty() && part.back() == ' ') part.remove_suffix(1);  // DICOM pads with spaces
      components[i] = fold(part);
      any = any || !components[i].empty();
      group = caret == std::string_view::npos ? std::string_view() : group.substr(caret + 1);
    }
    if (any) groups.push_back(std::move(components));
    if (end == std::string_view::npos) break;
    value.remove_prefix(end + 1);
  }
  return groups;
}

}  // namespace dicomd::index
