// Cross-origin access for browser viewers served from another origin (OHIF
// on its own port): which origins may read DICOMweb answers, and the
// answer to a preflight.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <dicomd/cpp/config.hpp>
#include <dicomd/cpp/http.hpp>

namespace dicomd::dicomweb {

struct CorsSettings {
  std::vector<std::string> origins;  // exact origins; "*" alone: any; empty: CORS off
  std::vector<std::string> methods = {"GET", "HEAD", "POST", "OPTIONS"};
  std::vector<std::string> headers = {"Accept", "Authorization", "Content-Type", "If-None-Match", "traceparent"};
  uint64_t max_age_s = 600;
  bool credentials = false;  // let pages send the login cookie (never with "*")

  // Reads the "cors" object of the plugin's config; throws ConfigError.
  static CorsSettings parse(const rapidjson::Value& json);

  bool enabled() const { return !origins.empty(); }
  bool allows_origin(std::string_view origin) const;
  // Adds Access-Control-Allow-Origin (and Vary, Expose-Headers, Credentials)
  // when the request's Origin is allowed.
  void add_headers(const Request& req, Response& res) const;
  // Answers a preflight: 204 with the allowed methods and headers, or 403.
  void preflight(const Request& req, Response& res) const;
};

}  // namespace dicomd::dicomweb
