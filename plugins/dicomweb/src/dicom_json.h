// The DICOM JSON model (PS3.18 F.2) from what dicomd's services give:
// index search results (QIDO-RS) and the metadata service's tag objects
// (WADO-RS /metadata).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <dicomd/cpp/json.hpp>
#include <rapidjson/document.h>

namespace dicomd::dicomweb {

// A search key of the index (API.md Part 3) with its DICOM tag and VR.
struct SearchKey {
  std::string_view keyword;
  std::string_view tag;  // "0020000D"
  std::string_view vr;
};
// The index's keys, and the counts it answers with.
const std::vector<SearchKey>& search_keys();
// The key of a QIDO parameter name: a keyword or its tag in hex
// ("PatientName", "00100010"); null when the index has no such key.
const SearchKey* find_search_key(std::string_view name);

// Writes one index result (an object of keywords) as a DICOM JSON object
// of the keys the index has, plus SpecificCharacterSet (the index's text is
// UTF-8) and RetrieveURL when `retrieve_url` is not empty.
void write_search_result(JsonWriter& w, const rapidjson::Value& result, std::string_view retrieve_url);
void write_search_result(JsonWriter& w, std::string_view result_json, std::string_view retrieve_url);

struct Uids {
  std::string study, series, instance;
};

// The metadata service's tag array (tag objects as API.md Part 1 shows
// them) as one DICOM JSON object. Binary values it left out (longer than
// it inlines) become BulkDataURI `bulk_base` + "/" + tag; the file meta
// group is left out, and AvailableTransferSyntaxUID added.
// nullopt when `tags_json` is not a tag array.
std::optional<std::string> metadata_to_dicom_json(std::string_view tags_json, std::string_view bulk_base);

}  // namespace dicomd::dicomweb
