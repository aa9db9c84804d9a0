// An HTTP response as handlers build it, and its wire form.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dicomd::http {

// A body read from an open file as it is sent, never held whole in memory.
// Owns the descriptor.
struct FileBody {
  FileBody(int fd, uint64_t offset, uint64_t length) : fd(fd), offset(offset), length(length) {}
  ~FileBody();
  FileBody(const FileBody&) = delete;
  FileBody& operator=(const FileBody&) = delete;
  const int fd;
  const uint64_t offset, length;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // as given
  std::string content_type;
  std::string body;
  std::shared_ptr<const FileBody> file;  // when set, the body (and `body` is empty)
  bool close = false;                    // send Connection: close and close after writing

  uint64_t body_length() const { return file ? file->length : body.size(); }

  void json(int code, std::string text) {
    status = code;
    content_type = "application/json";
    body = std::move(text);
  }
  void header(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
};

// {"error":"message","success":false}
std::string json_error(std::string_view message);
// JSON string literal with quotes.
std::string json_string(std::string_view text);
// Reason phrase of a status ("Not Found"); "Unknown" for others.
std::string_view reason_phrase(int status);
// True when a header name/value can be written without splitting the head.
bool is_safe_header(std::string_view name, std::string_view value);

// The status line and headers only (the body follows unless `head_only`, a
// status without body, or HEAD: see has_body).
std::string serialize_head(const Response& response, bool keep_alive, std::string_view request_id);
// False for 1xx, 204 and 304, which never carry a body.
bool has_body(int status);

}  // namespace dicomd::http
