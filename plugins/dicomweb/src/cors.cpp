#include "echo.h"
#include "cors.h"

#include <algorithm>

namespace dicomd::dicomweb {
namespace {

std::vector<std::string> string_list(const rapidjson::Value& v, const char* name) {
  std::vector<std::string> out;
  if (v.IsString()) {
    out.emplace_back(v.GetString(), v.GetStringLength());
    return out;
  }
  if (!v.IsArray()) throw ConfigError(std::string("config: cors.") + name + " must be a string or a list of strings");
  for (const auto& item : v.GetArray()) {
    if (!item.IsString() || item.GetStringLength() == 0)
      throw ConfigError(std::string("config: cors.") + name + " must hold non-empty strings");
    out.emplace_back(item.GetString(), item.GetStringLength());
  }
  return out;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

CorsSettings CorsSettings::parse(const rapidjson::Value& json) {
  if (!json.IsObject()) throw ConfigError("config: cors must be an object");
  CorsSettings s;
  for (auto m = json.MemberBegin(); m < json.MemberEnd(); ++m) {
    std::string_view name(m->name.GetString(), m->name.GetStringLength());
    if (name == "origins") {
      s.origins = string_list(m->value, "origins");
      for (const auto& o : s.origins)
        if (o != "*" && !(o.starts_with("http://") || o.starts_with("https://")))
          throw ConfigError("config: cors.origins: \"" + o + "\" is not an origin (http[s]://host[:port]) or *");
    } else if (name == "methods") {
      s.methods = string_list(m->value, "methods");
    } else if (name == "headers") {
      s.headers = string_list(m->value, "headers");
    } else if (name == "max_age_s") {
      if (!m->value.IsUint64() || m->value.GetUint64() > 86400)
        throw ConfigError("config: cors.max_age_s must be a whole number from 0 to 86400");
      s.max_age_s = m->value.GetUint64();
    } else if (name == "credentials") {
      if (!m->value.IsBool()) throw ConfigError("config: cors.credentials must be true or false");
      s.credentials = m->value.GetBool();
    } else {
      throw ConfigError("config: unknown key cors." + std::string(name) +
                        " (known: origins, methods, headers, max_age_s, credentials)");
    }
  }
  bool any = std::find(s.origins.begin(), s.origins.end(), "*") != s.origins.end();
  if (any && s.credentials)
    throw ConfigError("config: cors.credentials cannot be true with origin \"*\": name the origins");
  return s;
}

bool CorsSettings::allows_origin(std::string_view origin) const {
  for (const auto& o : origins)
    if (o == "*" || o == origin) return true;
  return false;
}

void CorsSettings::add_headers(const Request& req, Response& res) const {
  if (!enabled()) return;
  auto origin = req.header("origin");
  if (!origin || !allows_origin(*origin)) return;
  bool any = origins.size() == 1 && origins[0] == "*";
  res.header("Access-Control-Allow-Origin", any ? std::string_view("*") : *origin);
  if (!any) res.header("Vary", "Origin");
  if (credentials) res.header("Access-Control-Allow-Credentials", "true");
  res.header("Access-Control-Expose-Headers", "Content-Type, Content-Location, Location, Warning, ETag, X-Request-Id");
}

void CorsSettings::preflight(const Request& req, Response& res) const {
  auto origin = req.header("origin");
  auto method = req.header("access-control-request-method");
  if (!enabled() || !origin || !allows_origin(*origin))
    throw HttpError(403, "cross-origin requests from this origin are not allowed (dicomweb cors.origins)");
  if (method && std::none_of(methods.begin(), methods.end(), [&](const auto& m) { return m == *method; }))
    throw HttpError(403, "method " + echo(*method) + " is not allowed cross-origin (dicomweb cors.methods)");
  if (auto asked = req.header("access-control-request-headers")) {
    std::string_view rest = *asked;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view h = rest.substr(0, comma);
      while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
      while (!h.empty() && h.back() == ' ') h.remove_suffix(1);
      if (!h.empty() &&
          std::none_of(headers.begin(), headers.end(), [&](const auto& x) { return equal_ignoring_case(x, h); }))
        throw HttpError(403, "header " + echo(h) + " is not allowed cross-origin (dicomweb cors.headers)");
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  add_headers(req, res);
  res.header("Access-Control-Allow-Methods", joined(methods));
  res.header("Access-Control-Allow-Headers", joined(headers));
  res.header("Access-Control-Max-Age", std::to_string(max_age_s));
  res.send(204, "text/plain", "");
}

}  // namespace dicomd::dicomweb
