// multipart/form-data parsing (RFC 7578). Parts are views into the body: no
// copy of uploaded file bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dicomd::http {

struct FormPart {
  std::string name;      // from Content-Disposition name=
  std::string filename;  // filename= (or filename*=UTF-8''...), decoded
  bool has_filename = false;
  std::string content_type;  // the part's Content-Type, "" when absent
  std::string_view data;     // view into the body
};

// The boundary parameter of a multipart/form-data Content-Type (quoted or
// not), or nullopt when the type is not multipart/form-data or has none.
std::optional<std::string> multipart_boundary(std::string_view content_type);

// At most this many parts in one body: 300,000 empty parts (19.5 MB) once
// cost 86 MB of part records.
inline constexpr size_t kMaxFormParts = 10000;

// Parses the whole body; nullopt when malformed (missing boundary lines,
// missing final delimiter, part without Content-Disposition name) or when it
// holds more than kMaxFormParts parts (then *too_many is set).
std::optional<std::vector<FormPart>> parse_multipart(std::string_view body, std::string_view boundary,
                                                     bool* too_many = nullptr);

}  // namespace dicomd::http
