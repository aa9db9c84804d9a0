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

Policy::Policy(std::map<std::string, Access> extra)
    : table_{
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
          // Data, written.
          {"POST /upload", Access::kWrite},
          {"POST /validate", Access::kWrite},
          {"DELETE /files/:study/:file", Access::kDeleteOwn},
          // The server itself, and whole studies.
          {"DELETE /files/:study", Access::kAdmin},
          {"GET /plugins", Access::kAdmin},
      } {
  for (auto& [route, access] : extra) table_[route] = access;
}

std::optional<Access> Policy::access(std::string_view method, std::string_view pattern) const {
  std::string key(method == "HEAD" ? "GET" : method);
  key += ' ';
  key += pattern;
  auto it = table_.find(key);
  if (it == table_.end()) return std::nullopt;
  return it->second;
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
