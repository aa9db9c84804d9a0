#include "dsn.h"

#include <algorithm>

namespace dicomd::sentry {
namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Keys, host names and paths: letters, digits and -._~ (and ':' for a
// port, '/' for a path) — nothing that could break the URL or the header.
bool plain(std::string_view s, std::string_view extra) {
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~' || extra.find(c) != std::string_view::npos;
  });
}

}  // namespace

Dsn parse_dsn(std::string_view text) {
  Dsn d;
  size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) throw DsnError("the DSN must start with http:// or https://");
  d.scheme = std::string(text.substr(0, scheme_end));
  if (d.scheme != "http" && d.scheme != "https") throw DsnError("the DSN must start with http:// or https://");
  std::string_view rest = text.substr(scheme_end + 3);
  size_t at = rest.find('@');
  if (at == std::string_view::npos) throw DsnError("the DSN has no public key (KEY@host)");
  std::string_view user = rest.substr(0, at);
  rest = rest.substr(at + 1);
  size_t colon = user.find(':');
  d.public_key = std::string(user.substr(0, colon));
  if (colon != std::string_view::npos) d.secret_key = std::string(user.substr(colon + 1));
  if (d.public_key.empty() || !plain(d.public_key, "") || !plain(d.secret_key, ""))
    throw DsnError("the DSN's public key must be letters and digits");
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) throw DsnError("the DSN has no project id (…/PROJECT_ID)");
  d.host = std::string(rest.substr(0, slash));
  if (d.host.empty() || !plain(d.host, ":[]")) throw DsnError("the DSN's host is not valid");
  std::string_view path = rest.substr(slash);  // "/sentry/7" or "/7"
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t last = path.rfind('/');
  d.project_id = std::string(path.substr(last + 1));
  d.path = std::string(path.substr(0, last));
  if (!all_digits(d.project_id)) throw DsnError("the DSN's project id must be digits");
  if (!plain(d.path, "/")) throw DsnError("the DSN's path is not valid");
  return d;
}

std::string Dsn::envelope_url() const {
  return scheme + "://" + host + path + "/api/" + project_id + "/envelope/";
}

std::string Dsn::auth_header(std::string_view client) const {
  std::string h = "Sentry sentry_version=7, sentry_client=" + std::string(client) + ", sentry_key=" + public_key;
  if (!secret_key.empty()) h += ", sentry_secret=" + secret_key;
  return h;
}

std::string Dsn::public_text() const {
  return scheme + "://" + public_key + "@" + host + path + "/" + project_id;
}

}  // namespace dicomd::sentry
