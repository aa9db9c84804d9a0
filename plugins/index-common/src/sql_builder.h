// A checked search (search_query.h) as SQL over the index's tables: the
// conditions of PS3.4 C.2.2.2 matching, every value a bound parameter.
#pragma once

#include <string>
#include <vector>

#include "search_query.h"
#include "sql.h"

namespace dicomd::index {

// The page and the total in one statement (one round trip to PostgreSQL,
// one snapshot): each page row carries the total, from an uncorrelated
// subquery the database runs once. A page past the end has no row, and
// then `count` gives the total.
struct SearchSql {
  std::string count;  // SELECT count(*) ...
  std::vector<SqlValue> count_params;
  std::string page;  // SELECT attrs, (SELECT count(*) ...) ... ORDER BY ... LIMIT ? OFFSET ?
  std::vector<SqlValue> page_params;
};

// Throws QueryError for a value its key cannot match (a wildcard in a UID,
// a malformed date or range, a person name of more than five components...).
SearchSql build_search_sql(const SearchQuery& query);

// A DICOM wildcard value as a LIKE pattern with '\' as its escape character.
std::string like_pattern(std::string_view value);

// True for YYYYMMDD naming a real day; for HH[MM[SS[.FFFFFF]]].
bool is_dicom_date(std::string_view s);
bool is_dicom_time(std::string_view s);

}  // namespace dicomd::index
