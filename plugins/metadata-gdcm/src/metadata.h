// Tags of one DICOM file as JSON, read from its bytes without the pixel data.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dicomd::metadata {

struct TagsResult {
  enum class Status { kOk, kInvalidTags, kUnreadable } status = Status::kOk;
  std::string json;                        // kOk: the JSON array of tag objects
  std::vector<std::string> invalid_specs;  // kInvalidTags: in request order
};

// A file's header, already formatted: every top-level element (file meta
// information first, pixel data last) as its JSON object. Parsing once and
// answering many lookups from this is what the header cache is for.
class ParsedHeader {
 public:
  void add(uint32_t tag, std::string json);  // in file order
  void finish();                             // after the last add
  // The element's JSON object, or null when the file does not have it.
  const std::string* find(uint32_t tag) const;
  // Every element, in file order, as one JSON array.
  std::string all_json() const;
  size_t memory_bytes() const { return bytes_; }

  // Its elements as bytes ([u32 tag][u32 length][JSON] each, host order),
  // to carry a header parsed in an isolated worker back to the server.
  std::string serialize() const;
  // Null when `bytes` is not what serialize() wrote.
  static std::shared_ptr<ParsedHeader> deserialize(std::string_view bytes);

 private:
  std::vector<std::pair<uint32_t, std::string>> elements_;  // file order
  std::vector<std::pair<uint32_t, uint32_t>> by_tag_;       // tag -> index, sorted; first one wins
  size_t bytes_ = sizeof(ParsedHeader);
};

// Null when the bytes are not readable as DICOM.
std::shared_ptr<const ParsedHeader> parse_header(std::string_view dicom_bytes);
// The same header from the first bytes of a file of `file_size` bytes, when
// they hold everything before the pixel data; null otherwise (a header too
// long, a deflated data set, bytes that are not DICOM): then the whole file
// decides. Debian's GDCM may still assert on a cut it reads past: in a
// worker, like parse_header.
std::shared_ptr<const ParsedHeader> parse_header_start(std::string_view start, uint64_t file_size);

// `specs` in any spelling of the API, in order, each tag once (a repeat, in
// any spelling, is left out); empty `specs` = every top-level element (file
// meta information first).
TagsResult describe_tags(const ParsedHeader& header, const std::vector<std::string>& specs);
TagsResult describe_tags(std::string_view dicom_bytes, const std::vector<std::string>& specs);

}  // namespace dicomd::metadata
