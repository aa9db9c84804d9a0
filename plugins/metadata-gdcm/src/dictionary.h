// The DICOM data dictionary (GDCM's): tag <-> keyword, VR, VM, name.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <gdcmTag.h>
#include <gdcmVR.h>

namespace dicomd::metadata {

struct TagInfo {
  std::string keyword;
  std::string name;
  gdcm::VR vr;
};

// Parses "(0028,0010)", "0028,0010", "00280010" or a keyword ("Rows");
// nullopt when the spelling is malformed or the keyword unknown.
std::optional<gdcm::Tag> parse_tag_spec(std::string_view spec);

// True when the public dictionary defines the tag (including group lengths
// and the repeating 50xx/60xx groups).
bool is_public_dictionary_tag(const gdcm::Tag& tag);

// Dictionary data for a tag; private tags need their creator ("" if none).
TagInfo lookup(const gdcm::Tag& tag, const std::string& private_creator = "");

// "(0028,0010)"
std::string tag_string(const gdcm::Tag& tag);

}  // namespace dicomd::metadata
