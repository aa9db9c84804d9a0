// Case- and accent-folded text for name search: "MÜLLER" and "müller" both
// fold to "muller", "Straße" to "strasse", full-width "ＡＢ" to "ab". SQL's
// lower() folds ASCII only, so the index stores folded keys at ingest and
// folds each query value the same way.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace dicomd::index {

// Unicode case folding, compatibility decomposition (NFKD), then every
// nonspacing mark dropped. Invalid UTF-8 gives "" (callers refuse it first).
std::string fold(std::string_view utf8);

// A person name's five components (family, given, middle, prefix, suffix).
using NameComponents = std::array<std::string, 5>;

// The groups of one PN value (alphabetic=ideographic=phonetic), each split
// on '^' into its components, folded; empty groups are left out.
// "Yamada^Tarou=山田^太郎" -> {{"yamada","tarou",...},{"山田","太郎",...}}.
std::vector<NameComponents> person_name_groups(std::string_view value);

}  // namespace dicomd::index
