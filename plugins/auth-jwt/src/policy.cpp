#include "policy.h"

namespace dicomd::auth {

Role role_named(std::string_view name) {
  if (name == "read-only") return Role::kReadOnly;
  if (name == "standard") return Role::kStandard;
  if (name == "admin") return Role::kAdmin;
  return Role::kNone;
}

std::optional<Access> access_named(std::string_view name) {
  if (name == "open") return Access::kOpen;
  if (name == "read") return Access::kRead;
  if (name == "write") return Access::kWrite;
  if (name == "admin") return Access::kAdmin;
  return std::nullopt;
}

namespace {

// "METHOD /pattern" -> access: API.md Part 3, "Auth".
const std::pair<const char*, Access> kBuiltIn[] = {
    // Open: liveness, the page, logging in and out.
    {"GET /", Access::kOpen},
    {"GET /health", Access::kOpen},
    {"POST /login", Access::kOpen},
    {"POST /logout", Access::kOpen},
    // Data, read.
    {"GET /files", Access::kRead},
    {"GET /files/:study", Access::kRead},
    {"GET /files/:study/:file", Access::kRead},
    {"GET /files/:study/:file/tag", Access::kRead},
    {"GET /files/:study/:file/tags", Access::kRead},
    {"GET /files/:study/:file/png", Access::kRead},
    {"GET /search", Access::kRead},
    {"GET /openapi.json", Access::kRead},
    {"GET /jobs", Access::kRead},
    {"GET /jobs/:id", Access::kRead},
    {"GET /jobs/:id/result", Access::kRead},
    // DICOMweb (the dicomweb plugin): searches and retrieves read.
    {"GET /dicom-web/studies", Access::kRead},
    {"GET /dicom-web/series", Access::kRead},
    {"GET /dicom-web/instances", Access::kRead},
    {"GET /dicom-web/studies/:study/series", Access::kRead},
    {"GET /dicom-web/studies/:study/instances", Access::kRead},
    {"GET /dicom-web/studies/:study/series/:series/instances", Access::kRead},
    {"GET /dicom-web/studies/:study", Access::kRead},
    {"GET /dicom-web/studies/:study/series/:series", Access::kRead},
    {"GET /dicom-web/studies/:study/series/:series/instances/:instance", Access::kRead},
    {"GET /dicom-web/studies/:study/metadata", Access::kRead},
    {"GET /dicom-web/studies/:study/series/:series/metadata", Access::kRead},
    {"GET /dicom-web/studies/:study/series/:series/instances/:instance/metadata", Access::kRead},
    {"GET /dicom-web/studies/:study/series/:series/instances/:instance/frames/:frames", Access::kRead},
    {"GET /dicom-web/studies/:study/series/:series/instances/:instance/bulk/:tag", Access::kRead},
    {"GET /dicom-web/studies/:study/series/:series/instances/:instance/rendered", Access::kRead},
    {"GET /dicom-web/studies/:study/series/:series/instances/:instance/frames/:frames/rendered", Access::kRead},
    {"GET /dicom-web/studies/:study/thumbnail", Access::kRead},
    {"GET /dicom-web/studies/:study/series/:series/thumbnail", Access::kRead},
    {"GET /dicom-web/studies/:study/series/:series/instances/:instance/thumbnail", Access::kRead},
    {"GET /dicom-web/studies/:study/series/:series/instances/:instance/frames/:frames/thumbnail", Access::kRead},
    // Data, written.
    {"POST /upload", Access::kWrite},
    {"POST /validate", Access::kWrite},
    {"POST /jobs", Access::kWrite},
    {"DELETE /jobs/:id", Access::kWrite},
    {"POST /dicom-web/studies", Access::kWrite},  // STOW-RS
    {"POST /dicom-web/studies/:study", Access::kWrite},
    {"DELETE /files/:study/:file", Access::kDeleteOwn},
    // The server itself, and whole studies.
    {"DELETE /files/:study", Access::kAdmin},
    {"GET /plugins", Access::kAdmin},
    // A scraper gets an admin token, or the operator opens the route
    // ("policy": {"GET /metrics": "open"}) where only Prometheus reaches it.
    {"GET /metrics", Access::kAdmin},
};

}  // namespace

Policy::Policy(std::map<std::string, Access> extra) {
  for (const auto& [route, access] : kBuiltIn) extra.try_emplace(route, access);  // the operator's entry wins
  for (const auto& [route, access] : extra) {
    size_t space = route.find(' ');
    if (space == std::string::npos) continue;
    table_.push_back({route.substr(0, space), route.substr(space + 1), access});
  }
}

std::optional<Access> Policy::access(std::string_view method, std::string_view pattern) const {
  if (method == "HEAD") method = "GET";
  // A CORS preflight never carries credentials (Fetch standard), and its
  // answer says only which methods and headers the real request may use:
  // that request is checked as usual.
  if (method == "OPTIONS") return Access::kOpen;
  for (const auto& e : table_)
    if (e.pattern == pattern && e.method == method) return e.access;
  return std::nullopt;
}

bool allowed(Role role, Access access) {
  switch (access) {
    case Access::kOpen:
      return true;
    case Access::kRead:
      return role != Role::kNone;
    case Access::kWrite:
    case Access::kDeleteOwn:
      return role == Role::kStandard || role == Role::kAdmin;
    case Access::kAdmin:
      return role == Role::kAdmin;
  }
  return false;
}

}  // namespace dicomd::auth
