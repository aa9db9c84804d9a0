// The search query (URL parameters as the search plugin passes them, as
// JSON) through its checks and into SQL; and a person name through the
// folding. Whatever the bytes: a refusal (QueryError) or SQL whose values
// are all parameters — never a value in the statement's text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fold.h"
#include "search_query.h"
#include "sql_builder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  dicomd::index::person_name_groups(input);
  try {
    auto query = dicomd::index::parse_search_query(input);
    auto sql = dicomd::index::build_search_sql(query);
    // Values travel as parameters: no quote may come from the input.
    size_t quotes = 0;
    for (char c : sql.page) quotes += c == '\'';
    size_t escapes = 0;
    for (size_t at = sql.page.find("ESCAPE '\\'"); at != std::string::npos; at = sql.page.find("ESCAPE '\\'", at + 1))
      ++escapes;
    if (quotes != 2 * escapes) __builtin_trap();
  } catch (const dicomd::index::QueryError&) {
  }
  return 0;
}
