// A search, checked: the query JSON of dicomd.index v1 (index_v1.h) parsed
// into keys the index knows and values within bounds. Anything it does not
// understand is refused with a QueryError naming what and why — never
// ignored, so a typo can never return everything.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "search_keys.h"

namespace dicomd::index {

struct QueryError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Filter {
  const SearchKey* key;
  std::string value;  // as given: wildcards, ranges and lists are the SQL builder's
};

struct Order {
  const SearchKey* key;
  bool descending;
};

struct SearchQuery {
  Level level = Level::kInstance;
  std::vector<Filter> filters;
  uint32_t limit = 100;
  uint64_t offset = 0;
  std::vector<Order> order;  // empty: StudyDate descending
  bool fuzzy = false;
};

inline constexpr uint32_t kMaxLimit = 1000;
inline constexpr uint64_t kMaxOffset = 1000000000;
inline constexpr size_t kMaxValueBytes = 1024;
inline constexpr size_t kMaxOrderKeys = 5;

// Throws QueryError.
SearchQuery parse_search_query(std::string_view query_json);

// {"error":"...","supported":["PatientID",...]}: the refusal's JSON.
std::string query_error_json(std::string_view message);

}  // namespace dicomd::index
