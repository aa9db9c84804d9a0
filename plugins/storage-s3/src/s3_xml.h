// Just enough XML for S3's answers (ListObjectsV2, multipart uploads,
// errors): the text of named elements, entities decoded. S3's answers are
// flat and never use attributes, CDATA or comments where dicomd looks; an
// answer that is not such XML gives no elements, never a crash (fuzzed:
// tests/fuzz/fuzz_s3_xml.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dicomd::s3 {

// The contents of every <tag>…</tag> in `xml`, in order, not decoded (they
// may hold elements). An element left open ends the search.
std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag);

// The decoded text of the first <tag>…</tag>, or nullopt when there is none
// or its text holds a malformed entity.
std::optional<std::string> xml_text(std::string_view xml, std::string_view tag);

// Text with the five predefined entities and numeric character references
// decoded; nullopt for anything else after '&'.
std::optional<std::string> xml_decode(std::string_view text);

// `text` with &, <, > escaped, for the bodies dicomd sends.
std::string xml_escape(std::string_view text);

}  // namespace dicomd::s3
