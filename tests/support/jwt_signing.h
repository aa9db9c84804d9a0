// Tokens for the auth tests: JWTs signed with HS256, RS256 or ES256 (keys
// made by the openssl command), or deliberately broken.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace dicomd::test {

int64_t unix_now();

// "header.claims" of two JSON texts, base64url-encoded.
std::string unsigned_token(const std::string& header_json, const std::string& claims_json);
std::string base64url(const std::string& bytes);

// signing input + "." + signature.
std::string sign_hs256(const std::string& signing_input, const std::string& secret);
// With a PEM private key file; ES256 signatures as JWS writes them (r || s).
std::string sign_with_key(const std::string& signing_input, const std::filesystem::path& private_pem, bool ecdsa);

// An RSA (2048) or P-256 key pair in `dir`: NAME.key (private), NAME.pub (PEM public).
void make_key_pair(const std::filesystem::path& dir, const std::string& name, bool ecdsa);

// A JWK of a PEM public key ({"kty":…, "kid":…, n/e or crv/x/y}).
std::string jwk_of(const std::filesystem::path& public_pem, const std::string& kid);

}  // namespace dicomd::test
