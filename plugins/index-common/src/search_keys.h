// The keys GET /search accepts (API.md Part 3, "Search"): which level of the
// DICOM hierarchy each belongs to, how its values match, and the column that
// holds it in every table of the index.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace dicomd::index {

// Study holds the patient's keys too; a series row carries its study's
// keys, an instance row carries all.
enum class Level { kStudy = 0, kSeries = 1, kInstance = 2 };

enum class Match {
  kText,        // exact, or * and ? wildcards; a '\' list of alternatives
  kUid,         // exact, or a '\' list of UIDs; no wildcards
  kDate,        // YYYYMMDD, or a range A-B, A-, -B
  kTime,        // HH[MM[SS[.F]]], or a range
  kInteger,     // an integer, or a '\' list
  kPersonName,  // per component, case- and accent-insensitive (fold.h)
  kModalities,  // the study has a series of one of these modalities
};

struct SearchKey {
  std::string_view keyword;  // "PatientName", or dicomd's own "study" / "file"
  Level level;
  Match match;
  std::string_view column;  // "" for ModalitiesInStudy (no column of its own)
};

std::span<const SearchKey> search_keys();
const SearchKey* find_key(std::string_view keyword);

std::string_view level_name(Level level);
std::optional<Level> parse_level(std::string_view name);

}  // namespace dicomd::index
