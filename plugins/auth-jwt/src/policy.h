// Who may call which route (API.md Part 3, "Auth"): every mounted route is
// classified by its method and pattern; a route no entry names is denied to
// everyone, so a new plugin's route never slips through open.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dicomd::auth {

enum class Access {
  kOpen,       // no token needed (health, the page, login)
  kRead,       // GET/HEAD of data: read-only and up
  kWrite,      // upload, validate: standard and up
  kDeleteOwn,  // standard: its own uploads (the storage checks whose), admin: any
  kAdmin,      // everything else that is named: admin only
};

enum class Role { kNone, kReadOnly, kStandard, kAdmin };
Role role_named(std::string_view name);                     // kNone for anything else
std::optional<Access> access_named(std::string_view name);  // "open", "read", "write", "admin"

class Policy {
 public:
  // `extra`: "METHOD /pattern" -> access, for routes of plugins the built-in
  // table does not know; they may also reclassify a built-in entry.
  explicit Policy(std::map<std::string, Access> extra = {});
  // The access a route needs (HEAD as GET); nullopt when no entry names it.
  // No allocation: it runs for every request, on the I/O thread for quick
  // routes (cached tag lookups).
  std::optional<Access> access(std::string_view method, std::string_view pattern) const;

 private:
  struct Entry {
    std::string method, pattern;
    Access access;
  };
  std::vector<Entry> table_;
};

bool allowed(Role role, Access access);

}  // namespace dicomd::auth
