// multipart/related (RFC 2387) as DICOMweb uses it: STOW-RS bodies in, WADO-RS
// answers out. Parsing only makes views into the body: no part is copied.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mem_file.h"

namespace dicomd::dicomweb {

// A media type and its parameters, names lower-cased, values unquoted:
// `multipart/related; type="application/dicom"; boundary=x`.
struct MediaType {
  std::string type;  // lower-case "multipart/related"
  std::vector<std::pair<std::string, std::string>> params;
  std::optional<std::string_view> param(std::string_view name) const;
};
// nullopt when it is not `type/subtype` followed by `; name=value` pairs.
std::optional<MediaType> parse_media_type(std::string_view text);

struct BodyPart {
  std::string content_type;  // the part's Content-Type; empty when it has none
  std::string_view data;     // a view into the body
};

// The parts of `body` between `--boundary` delimiters. nullopt with
// `reason` when the boundary is missing or malformed, a part's headers do
// not end, or the closing delimiter is missing.
std::optional<std::vector<BodyPart>> parse_multipart_related(std::string_view body, std::string_view boundary,
                                                             std::string& reason);

// Writes a multipart/related answer part by part, into memory, or into
// `file` when given (an answer of whole instances: sent from the file, so
// the bytes are held once, not in a string and again in the response).
class MultipartWriter {
 public:
  explicit MultipartWriter(std::string boundary, common::MemFile* file = nullptr)
      : boundary_(std::move(boundary)), file_(file) {}
  const std::string& boundary() const { return boundary_; }
  // A part's header; its data follows with add_data (several pieces allowed).
  void begin_part(std::string_view content_type, std::string_view location = {});
  void add_data(std::string_view data) { put(data); }
  // The closing delimiter; the whole body (empty when written to a file).
  std::string finish();
  size_t parts() const { return parts_; }
  // Bytes written so far; false once a write to the file failed.
  uint64_t size() const { return size_; }
  bool ok() const { return ok_; }

 private:
  void put(std::string_view bytes);

  std::string boundary_;
  common::MemFile* file_;
  std::string out_;
  size_t parts_ = 0;
  uint64_t size_ = 0;
  bool ok_ = true;
};

}  // namespace dicomd::dicomweb
