#include "http/response.h"

#include <unistd.h>

#include <charconv>
#include <cstdio>

#include <dicomd/cpp/plugin.hpp>

namespace dicomd::http {

std::string json_string(std::string_view s) {
  std::string out = "\"";
  out += dicomd::json_escape(s);
  out += '"';
  return out;
}

std::string json_error(std::string_view message) {
  return "{\"error\":" + json_string(message) + ",\"success\":false}";
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

bool is_safe_header(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (unsigned char c : name)
    if (c <= 0x20 || c >= 0x7f || c == ':') return false;
  for (unsigned char c : value)
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  return true;
}

namespace {

void append_number(std::string& out, uint64_t value) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
}

}  // namespace

bool has_body(int status) {
  return status >= 200 && status != 204 && status != 304;
}

FileBody::~FileBody() {
  ::close(fd);
}

std::string serialize_head(const Response& r, bool keep_alive, std::string_view request_id) {
  std::string out;
  out.reserve(256);
  out += "HTTP/1.1 ";
  append_number(out, static_cast<uint64_t>(r.status));
  out += ' ';
  out += reason_phrase(r.status);
  out += "\r\n";
  if (has_body(r.status)) {
    if (!r.content_type.empty()) {
      out += "Content-Type: ";
      out += r.content_type;
      out += "\r\n";
    }
    out += "Content-Length: ";
    append_number(out, r.body_length());
    out += "\r\n";
  }
  out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  out += "X-Content-Type-Options: nosniff\r\n";
  if (!request_id.empty()) {
    out += "X-Request-Id: ";
    out += request_id;
    out += "\r\n";
  }
  for (const auto& [name, value] : r.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

}  // namespace dicomd::http
