// dicomd plugin SDK, C++ layer — requests, responses and the HTTP rules every
// route shares: JSON errors, validated name parameters, ETag and 304.
// Standard library only.
#pragma once

#include <dicomd/abi.h>
#include <dicomd/host.h>
#include <dicomd/http.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "names.hpp"

namespace dicomd {

inline std::string_view view(dicomd_str s) {
  return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view();
}
inline dicomd_str str(std::string_view s) {
  return dicomd_str{s.data(), s.size()};
}

// A sink that appends to a std::string.
inline dicomd_sink string_sink(std::string& out) {
  return dicomd_sink{&out, [](void* ctx, const void* data, size_t len) {
                       static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), len);
                     }};
}

// Thrown by plugin code to answer with a JSON error of the given status. The
// message is shown to the client, except for a 500, which is logged and
// answered "internal error (request id …)": never a path or a stack.
struct HttpError : std::runtime_error {
  int status;
  HttpError(int status_code, const std::string& message) : std::runtime_error(message), status(status_code) {}
};

// Thrown by a quick route's handler on an I/O thread (see Request::may_block)
// before it writes anything: the host calls it again on a request thread.
struct WouldBlock {};

// Escapes a string for a JSON string literal: well-formed UTF-8 passes
// through, any other byte becomes U+FFFD (a JSON text is UTF-8). One pass:
// it writes the file names of every tag lookup's answer.
inline std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = utf8_sequence_length(s, i);
      if (n == 0) {
        out += "\xEF\xBF\xBD";
      } else {
        out.append(s.substr(i, n));
        i += n - 1;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

// Who sent a request, as a request filter established it (ABI 1.2).
struct Identity {
  std::string_view subject;
  std::string_view role;
  bool empty() const { return subject.empty() && role.empty(); }
};

class Request {
 public:
  explicit Request(const dicomd_request* r) : r_(r) {}
  std::string_view method() const { return view(r_->method); }
  std::string_view path() const { return view(r_->path); }
  std::string_view body() const { return view(r_->body); }
  std::string_view request_id() const { return view(r_->request_id); }
  const dicomd_request* raw() const { return r_; }
  // False on an I/O thread (quick routes only): answer from memory or throw
  // WouldBlock. A host older than ABI 1.1 always runs handlers where they may block.
  bool may_block() const { return !DICOMD_HAS_FIELD(r_, dicomd_request, may_block) || r_->may_block != 0; }
  // The matched route pattern; empty from a host older than ABI 1.2.
  std::string_view route() const { return DICOMD_HAS_FIELD(r_, dicomd_request, route) ? view(r_->route) : ""; }
  // The identity a request filter attached; empty when none did.
  Identity identity() const {
    if (!DICOMD_HAS_FIELD(r_, dicomd_request, role)) return {};
    return {view(r_->subject), view(r_->role)};
  }

  std::optional<std::string_view> param(std::string_view name) const { return find(r_->params, r_->param_count, name); }
  // A path parameter that must be a study or file name (docs/api.md);
  // HttpError 400 "invalid <name> name" otherwise.
  std::string_view name_param(std::string_view name) const {
    std::string_view value = param(name).value_or("");
    if (!is_valid_name(value)) throw HttpError(400, "invalid " + std::string(name) + " name");
    return value;
  }
  // First value of a query parameter.
  std::optional<std::string_view> query(std::string_view name) const { return find(r_->query, r_->query_count, name); }
  // Every value of a repeated query parameter, in request order.
  std::vector<std::string_view> query_all(std::string_view name) const {
    std::vector<std::string_view> out;
    for (size_t i = 0; i < r_->query_count; ++i)
      if (view(r_->query[i].name) == name) out.push_back(view(r_->query[i].value));
    return out;
  }
  // Every query parameter (decoded), in request order.
  std::vector<std::pair<std::string_view, std::string_view>> query_params() const {
    std::vector<std::pair<std::string_view, std::string_view>> out;
    for (size_t i = 0; i < r_->query_count; ++i) out.emplace_back(view(r_->query[i].name), view(r_->query[i].value));
    return out;
  }
  // Header by lower-case name.
  std::optional<std::string_view> header(std::string_view lower_name) const {
    return find(r_->headers, r_->header_count, lower_name);
  }
  // The Content-Type's media type, lower-cased and without parameters:
  // "multipart/form-data" for "Multipart/Form-Data; boundary=x" (media
  // types are case-insensitive, RFC 9110 8.3.1). Empty when absent.
  std::string media_type() const {
    std::string_view type = header("content-type").value_or("");
    type = type.substr(0, type.find(';'));
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
    while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
    std::string out(type);
    for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return out;
  }
  // True when If-None-Match names `etag` (a strong tag, quotes included):
  // one of a comma-separated list, its weak form W/"…", or "*".
  bool if_none_match(std::string_view etag) const {
    std::string_view list = header("if-none-match").value_or("");
    while (!list.empty()) {
      size_t comma = list.find(',');
      std::string_view item = list.substr(0, comma);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (item.starts_with("W/")) item.remove_prefix(2);
      if (item == etag || item == "*") return true;
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
    return false;
  }

 private:
  static std::optional<std::string_view> find(const dicomd_kv* kv, size_t n, std::string_view name) {
    for (size_t i = 0; i < n; ++i)
      if (view(kv[i].name) == name) return view(kv[i].value);
    return std::nullopt;
  }
  const dicomd_request* r_;
};

class Response {
 public:
  Response(const dicomd_host_api* api, dicomd_response* r) : api_(api), r_(r) {}
  void status(int code) { api_->response_status(r_, code); }
  void header(std::string_view name, std::string_view value) { api_->response_header(r_, str(name), str(value)); }
  void body(std::string_view content_type, std::string_view data) {
    api_->response_body(r_, str(content_type), str(data));
  }
  void send(int code, std::string_view content_type, std::string_view data) {
    status(code);
    body(content_type, data);
  }
  void json(int code, std::string_view json_text) { send(code, "application/json", json_text); }
  // The body is `length` bytes of open file `fd` from `offset`, sent as the
  // client reads (host.h response_file); this takes `fd` in every case. A
  // host older than 1.3 gets the bytes read here. Throws when fd is not a
  // regular file holding that range.
  void send_file(int code, std::string_view content_type, int fd, uint64_t offset, uint64_t length) {
    status(code);
    if (DICOMD_HAS_FIELD(api_, dicomd_host_api, response_file)) {
      if (api_->response_file(r_, str(content_type), fd, offset, length) != DICOMD_OK)
        throw std::runtime_error("response_file: not a regular file holding the range");
      return;
    }
    std::string bytes(length, '\0');
    size_t done = 0;
    while (done < length) {
      ssize_t n = ::pread(fd, bytes.data() + done, length - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(fd);
    if (done != length) throw std::runtime_error("send_file: cannot read the file");
    body(content_type, bytes);
  }
  // {"error": message, "success": false}: API.md's error shape.
  void error(int code, std::string_view message) {
    json(code, "{\"error\":\"" + json_escape(message) + "\",\"success\":false}");
  }
  // Sets ETag (a strong tag, quotes included) and Cache-Control: no-cache,
  // so clients revalidate; answers 304 and returns true when the request's
  // If-None-Match already names it.
  bool not_modified(const Request& request, std::string_view etag) {
    header("ETag", etag);
    header("Cache-Control", "no-cache");
    if (!request.if_none_match(etag)) return false;
    status(304);
    return true;
  }
  // Only from a request filter: attaches who sent the request (ABI 1.2).
  void set_identity(std::string_view subject, std::string_view role) {
    if (DICOMD_HAS_FIELD(api_, dicomd_host_api, set_identity)) api_->set_identity(r_, str(subject), str(role));
  }

 private:
  const dicomd_host_api* api_;
  dicomd_response* r_;
};

}  // namespace dicomd
