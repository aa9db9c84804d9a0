#include "multipart.h"

#include <algorithm>

namespace dicomd::dicomweb {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_token_char(char c) {
  return c > 32 && c < 127 && std::string_view("()<>@,;:\\\"/[]?={}").find(c) == std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

// RFC 2046 5.1.1: 1 to 70 characters of a restricted set, not ending in a space.
bool valid_boundary(std::string_view b) {
  if (b.empty() || b.size() > 70 || b.back() == ' ') return false;
  return std::all_of(b.begin(), b.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
  });
}

}  // namespace

std::optional<std::string_view> MediaType::param(std::string_view name) const {
  for (const auto& [n, v] : params)
    if (n == name) return std::string_view(v);
  return std::nullopt;
}

std::optional<MediaType> parse_media_type(std::string_view text) {
  MediaType out;
  size_t semi = text.find(';');
  std::string_view type = trim(text.substr(0, semi));
  size_t slash = type.find('/');
  if (slash == std::string_view::npos || !is_token(type.substr(0, slash)) || !is_token(type.substr(slash + 1)))
    return std::nullopt;
  out.type = lower(type);
  std::string_view rest = semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
  while (!trim(rest).empty()) {
    rest = trim(rest);
    size_t eq = rest.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view name = trim(rest.substr(0, eq));
    if (!is_token(name)) return std::nullopt;
    rest = trim(rest.substr(eq + 1));
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      size_t i = 1;
      for (; i < rest.size() && rest[i] != '"'; ++i) {
        if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
        value += rest[i];
      }
      if (i >= rest.size()) return std::nullopt;  // no closing quote
      rest.remove_prefix(i + 1);
      rest = trim(rest);
      if (!rest.empty() && rest.front() != ';') return std::nullopt;
    } else {
      size_t end = rest.find(';');
      value = std::string(trim(rest.substr(0, end)));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    }
    if (!rest.empty()) rest.remove_prefix(1);  // the ';'
    out.params.emplace_back(lower(name), std::move(value));
  }
  return out;
}

std::optional<std::vector<BodyPart>> parse_multipart_related(std::string_view body, std::string_view boundary,
                                                             std::string& reason) {
  if (!valid_boundary(boundary)) {
    reason = "the Content-Type has no valid boundary parameter";
    return std::nullopt;
  }
  const std::string delimiter = "--" + std::string(boundary);
  // The first delimiter may open the body or follow a preamble and CRLF.
  size_t at = 0;
  if (!body.starts_with(delimiter)) {
    at = body.find("\r\n" + delimiter);
    if (at == std::string_view::npos) {
      reason = "the body has no boundary delimiter";
      return std::nullopt;
    }
    at += 2;  // the line break belongs to the delimiter
  }
  std::vector<BodyPart> parts;
  const std::string next_delimiter = "\r\n" + delimiter;
  for (;;) {
    size_t after = at + delimiter.size();
    if (body.substr(after, 2) == "--") return parts;  // the closing delimiter
    // Transport padding, then CRLF.
    while (after < body.size() && (body[after] == ' ' || body[after] == '\t')) ++after;
    if (body.substr(after, 2) != "\r\n") {
      reason = "a boundary delimiter is not followed by a line break";
      return std::nullopt;
    }
    size_t headers_start = after + 2;
    size_t headers_end = body.find("\r\n\r\n", headers_start);
    size_t data_start;
    std::string_view headers;
    if (body.substr(headers_start, 2) == "\r\n") {  // no headers
      data_start = headers_start + 2;
    } else if (headers_end == std::string_view::npos) {
      reason = "a part's headers do not end";
      return std::nullopt;
    } else {
      headers = body.substr(headers_start, headers_end - headers_start);
      data_start = headers_end + 4;
    }
    size_t data_end = body.find(next_delimiter, data_start);
    if (data_end == std::string_view::npos) {
      reason = "the body has no closing boundary delimiter";
      return std::nullopt;
    }
    BodyPart part;
    part.data = body.substr(data_start, data_end - data_start);
    while (!headers.empty()) {
      size_t eol = headers.find("\r\n");
      std::string_view line = headers.substr(0, eol);
      headers = eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 2);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) {
        reason = "a part has a malformed header line";
        return std::nullopt;
      }
      if (lower(trim(line.substr(0, colon))) == "content-type") part.content_type = trim(line.substr(colon + 1));
    }
    parts.push_back(std::move(part));
    at = data_end + 2;
  }
}

void MultipartWriter::put(std::string_view bytes) {
  size_ += bytes.size();
  if (!file_) {
    out_.append(bytes);
  } else if (ok_ && !file_->append(bytes)) {
    ok_ = false;
  }
}

void MultipartWriter::begin_part(std::string_view content_type, std::string_view location) {
  // The CRLF before a delimiter belongs to the delimiter (RFC 2046 5.1.1).
  if (parts_ > 0) put("\r\n");
  put("--");
  put(boundary_);
  put("\r\nContent-Type: ");
  put(content_type);
  if (!location.empty()) {
    put("\r\nContent-Location: ");
    put(location);
  }
  put("\r\n\r\n");
  ++parts_;
}

std::string MultipartWriter::finish() {
  if (parts_ > 0) put("\r\n");
  put("--");
  put(boundary_);
  put("--\r\n");
  std::string body;
  body.swap(out_);
  return body;
}

}  // namespace dicomd::dicomweb
