// Tags of one DICOM file as JSON, read from its bytes without the pixel data.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dicomd::metadata {

struct TagsResult {
  enum class Status { kOk, kInvalidTags, kUnreadable } status = Status::kOk;
  std::string json;                        // kOk: the JSON array of tag objects
  std::vector<std::string> invalid_specs;  // kInvalidTags: in request order
};

// `specs` in any spelling of the API, in order; empty `specs` = every
// top-level element (file meta information first).
TagsResult describe_tags(std::string_view dicom_bytes, const std::vector<std::string>& specs);

}  // namespace dicomd::metadata
