#include "negotiation.h"

#include <algorithm>
#include <charconv>

namespace dicomd::dicomweb {
namespace {

// Splits at commas outside quoted strings.
std::vector<std::string_view> split_ranges(std::string_view s) {
  std::vector<std::string_view> out;
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && s[i] == '"') quoted = !quoted;
    if (i == s.size() || (s[i] == ',' && !quoted)) {
      std::string_view item = s.substr(start, i - start);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      if (!item.empty()) out.push_back(item);
      start = i + 1;
    }
  }
  return out;
}

double quality_of(const MediaType& m) {
  auto q = m.param("q");
  if (!q) return 1.0;
  double value = 1.0;
  auto [end, ec] = std::from_chars(q->data(), q->data() + q->size(), value);
  if (ec != std::errc() || end != q->data() + q->size() || value < 0 || value > 1) return -1;
  return value;
}

}  // namespace

std::optional<std::vector<MediaType>> parse_accept(std::optional<std::string_view> header) {
  std::vector<std::pair<double, MediaType>> ranked;
  if (header)
    for (std::string_view item : split_ranges(*header)) {
      auto m = parse_media_type(item);
      if (!m) return std::nullopt;
      double q = quality_of(*m);
      if (q < 0) return std::nullopt;
      if (q > 0) ranked.emplace_back(q, std::move(*m));
    }
  if (!header || (header->find_first_not_of(' ') == std::string_view::npos))
    ranked.emplace_back(1.0, MediaType{"*/*", {}});
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<MediaType> out;
  for (auto& [q, m] : ranked) out.push_back(std::move(m));
  return out;
}

bool covers(std::string_view range, std::string_view type) {
  if (range == "*/*" || range == type) return true;
  if (range.ends_with("/*")) return type.starts_with(range.substr(0, range.size() - 1));
  return false;
}

std::optional<std::string> choose_single(const std::vector<MediaType>& accept,
                                         const std::vector<std::string>& offered) {
  for (const auto& range : accept)
    for (const auto& type : offered)
      if (covers(range.type, type)) return type;
  return std::nullopt;
}

std::optional<std::string> accepts_multipart(const std::vector<MediaType>& accept, std::string_view part_type,
                                             std::string_view default_part_type,
                                             const std::vector<std::string>& syntaxes) {
  for (const auto& range : accept) {
    if (range.type != "multipart/related" && range.type != "*/*" && range.type != "multipart/*") continue;
    std::string_view wanted = range.param("type").value_or(default_part_type);
    std::string lowered(wanted);
    std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!covers(lowered, part_type)) continue;
    auto syntax = range.param("transfer-syntax");
    if (!syntax || *syntax == "*") return std::string(syntax.value_or(""));
    if (std::find(syntaxes.begin(), syntaxes.end(), *syntax) != syntaxes.end()) return std::string(*syntax);
  }
  return std::nullopt;
}

}  // namespace dicomd::dicomweb
