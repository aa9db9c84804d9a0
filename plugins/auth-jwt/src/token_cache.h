// Tokens already verified, so that a client sending the same token on every
// request pays one signature check, not one per request (an RS256 check
// costs tens of microseconds; a cached tag lookup less than one). Keyed by
// the whole token, so no collision can stand in for a verified token; an
// entry is used only inside its validity window (exp and nbf with leeway).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "jwt_verify.h"

namespace dicomd::auth {

class TokenCache {
 public:
  explicit TokenCache(size_t capacity = 4096) : capacity_(capacity) {}
  // Copied out under the lock: subjects and roles are short (no allocation),
  // and a shared pointer would add two contended atomic counts per request.
  std::optional<VerifiedToken> find(std::string_view token, int64_t now) const;
  // When full, expired entries go; when that is not enough, all of them.
  void insert(std::string_view token, std::shared_ptr<const VerifiedToken> verified, int64_t now);
  size_t size() const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const VerifiedToken>, Hash, std::equal_to<>>
      entries_;  // guarded by mutex_
  size_t capacity_;
};

}  // namespace dicomd::auth
