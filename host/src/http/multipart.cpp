#include "http/multipart.h"

#include <algorithm>
#include <cctype>

#include "http/text.h"

#include "http/url.h"

namespace dicomd::http {
namespace {

// Splits `type; a=1; b="x;y"` into parameters, honouring quotes and \-escapes.
std::vector<std::pair<std::string, std::string>> header_params(std::string_view value) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = value.find(';');
  while (i != std::string_view::npos && i < value.size()) {
    ++i;
    size_t eq = value.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string name = lower(trim(value.substr(i, eq - i)));
    size_t j = eq + 1;
    while (j < value.size() && (value[j] == ' ' || value[j] == '\t')) ++j;
    std::string val;
    if (j < value.size() && value[j] == '"') {
      ++j;
      // Browsers send backslashes of Windows paths as they are ("C:\x\IM1")
      // and encode quotes as %22; curl escapes a quote as \". So only \" is
      // an escape here.
      while (j < value.size() && value[j] != '"') {
        if (value[j] == '\\' && j + 1 < value.size() && value[j + 1] == '"') ++j;
        val += value[j++];
      }
      i = value.find(';', j);
    } else {
      size_t semi = value.find(';', j);
      val = std::string(trim(value.substr(j, semi == std::string_view::npos ? std::string_view::npos : semi - j)));
      i = semi;
    }
    out.emplace_back(std::move(name), std::move(val));
  }
  return out;
}

bool parse_part_headers(std::string_view head, FormPart& part) {
  bool has_disposition = false;
  while (!head.empty()) {
    size_t eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    std::string name = lower(trim(line.substr(0, colon)));
    std::string_view value = trim(line.substr(colon + 1));
    if (name == "content-type") {
      part.content_type = std::string(value);
    } else if (name == "content-disposition") {
      if (lower(trim(value.substr(0, value.find(';')))) != "form-data") return false;
      has_disposition = true;
      for (auto& [key, val] : header_params(value)) {
        if (key == "name") {
          part.name = val;
        } else if (key == "filename" && !part.has_filename) {
          part.filename = val;
          part.has_filename = true;
        } else if (key == "filename*") {  // RFC 5987: UTF-8''percent-encoded
          size_t quote = val.find("''");
          auto decoded = percent_decode(quote == std::string::npos ? val : val.substr(quote + 2), false);
          if (!decoded) return false;
          part.filename = *decoded;
          part.has_filename = true;
        }
      }
    }
  }
  return has_disposition;
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  if (lower(trim(content_type.substr(0, content_type.find(';')))) != "multipart/form-data") return std::nullopt;
  for (auto& [key, val] : header_params(content_type))
    if (key == "boundary" && !val.empty() && val.size() <= 200) return val;
  return std::nullopt;
}

std::optional<std::vector<FormPart>> parse_multipart(std::string_view body, std::string_view boundary, bool* too_many) {
  const std::string delimiter = "--" + std::string(boundary);
  const std::string separator = "\r\n" + delimiter;
  // The first delimiter may follow a preamble; it starts the body or a line.
  size_t pos = body.substr(0, delimiter.size()) == delimiter ? 0 : body.find(separator);
  if (pos == std::string_view::npos) return std::nullopt;
  pos += pos == 0 ? delimiter.size() : separator.size();
  std::vector<FormPart> parts;
  while (true) {
    if (body.substr(pos, 2) == "--") return parts;  // close delimiter
    if (parts.size() == kMaxFormParts) {
      if (too_many) *too_many = true;
      return std::nullopt;
    }
    // Transport padding after a delimiter, then CRLF.
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) != "\r\n") return std::nullopt;
    pos += 2;
    size_t head_end = body.find("\r\n\r\n", pos);
    if (head_end == std::string_view::npos) return std::nullopt;
    size_t head_len = head_end - pos;
    FormPart part;
    if (!parse_part_headers(body.substr(pos, head_len), part)) return std::nullopt;
    size_t data_start = head_end + 4;
    if (data_start > body.size()) return std::nullopt;
    size_t data_end = body.find(separator, data_start);
    if (data_end == std::string_view::npos) return std::nullopt;
    part.data = body.substr(data_start, data_end - data_start);
    parts.push_back(std::move(part));
    pos = data_end + separator.size();
  }
}

}  // namespace dicomd::http
