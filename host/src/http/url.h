// Percent-decoding and query-string splitting (RFC 3986, HTML forms).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dicomd::http {

// Decodes %XX escapes once; with plus_is_space, '+' becomes ' ' (query
// strings). nullopt for a malformed escape ("%4", "%zz").
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space);

// Splits "a=1&b=2&a=3" into decoded pairs in order, repeats kept. Empty
// pieces ("a=1&&b") are skipped; "flag" gives ("flag", ""). nullopt when any
// piece has a malformed escape.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view raw);

}  // namespace dicomd::http
