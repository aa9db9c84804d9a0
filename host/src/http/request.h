// An HTTP request as the host's parser produces it.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace dicomd::http {

struct Request {
  std::string method;                                        // "GET"
  std::string path;                                          // raw path of the target ("/files/a%20b"), not decoded
  std::string raw_query;                                     // after '?', not decoded ("" when absent)
  int minor_version = 1;                                     // HTTP/1.<minor>
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  std::string body;
  bool keep_alive = true;
  std::chrono::steady_clock::time_point received_at{};  // its first byte; unset: not known

  // First value of a lower-case header name, or nullptr.
  const std::string* header(const std::string& lower_name) const {
    for (const auto& [name, value] : headers)
      if (name == lower_name) return &value;
    return nullptr;
  }
};

}  // namespace dicomd::http
