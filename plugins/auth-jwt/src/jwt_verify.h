// A JWT (JWS compact form) checked as API.md's "Auth" says: the configured
// algorithm only, a valid signature, `exp` (required) and `nbf` with
// leeway, `iss` and `aud` when configured, a `sub`. Pure apart from the
// clock passed in; every failure is a TokenError whose reason names no key
// material and quotes nothing of the token.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "jwt_keys.h"

namespace dicomd::auth {

inline constexpr size_t kMaxTokenBytes = 8192;

struct VerifyOptions {
  std::string issuer;    // empty: not checked
  std::string audience;  // empty: not checked
  std::string role_claim = "role";
  int64_t leeway_s = 30;
};

// What a valid token says, and when it stops being valid (`exp` + leeway)
// and starts (`nbf` - leeway): a cache of verified tokens keeps to them.
struct VerifiedToken {
  std::string subject, role;  // role empty when the claim is absent or not a string
  int64_t valid_from = INT64_MIN, valid_until = 0;
};

struct TokenError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

VerifiedToken verify_token(std::string_view token, const KeySet& keys, const VerifyOptions& options, int64_t now);

}  // namespace dicomd::auth
