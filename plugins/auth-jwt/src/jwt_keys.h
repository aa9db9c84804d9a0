// The keys a JWT is verified with, and the signature check itself, on
// OpenSSL's libcrypto. One algorithm is configured (HS256, RS256 or ES256)
// and every key is checked against it when loaded: an HS256 secret is never
// a PEM, an RS256 key is an RSA public key of 2048 bits or more, an ES256
// key a P-256 public key. So a token can never pick how it is checked (the
// "alg: none" and HS256-signed-with-the-public-key attacks libjwt 1.10
// falls for).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

typedef struct evp_pkey_st EVP_PKEY;

namespace dicomd::auth {

enum class Algorithm { kHS256, kRS256, kES256 };
std::optional<Algorithm> algorithm_named(std::string_view name);
std::string_view name_of(Algorithm algorithm);

// A key that cannot be used; the reason names no key material.
struct KeyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct EvpKeyDeleter {
  void operator()(EVP_PKEY* key) const;
};
using EvpKey = std::unique_ptr<EVP_PKEY, EvpKeyDeleter>;

// An HMAC secret or a public key, for the one configured algorithm.
class Key {
 public:
  static Key secret(std::string bytes);
  static Key public_key(EvpKey key);
  // True when `signature` (the token's third part, decoded) signs `input`.
  bool verify(Algorithm algorithm, std::string_view input, std::string_view signature) const;

 private:
  std::string secret_;
  std::shared_ptr<EVP_PKEY> public_key_;
};

class KeySet {
 public:
  // HS256: the file's bytes (one trailing newline dropped), at least 32 of
  // them, in a file nobody but its owner may read. RS256/ES256: a PEM
  // public key, or a JWKS (a JSON object with "keys") whose keys are chosen
  // by the token's "kid". Throws KeyError.
  static KeySet from_file(Algorithm algorithm, const std::filesystem::path& path);
  static KeySet from_secret(std::string secret);
  static KeySet from_pem(Algorithm algorithm, std::string_view pem);
  static KeySet from_jwks(Algorithm algorithm, std::string_view json);

  Algorithm algorithm() const { return algorithm_; }
  // The key for a token with this "kid" (nullopt: the token has none); null
  // when none fits. Without a kid, only a set of one key answers.
  const Key* find(const std::optional<std::string>& kid) const;
  size_t size() const { return keys_.size(); }

 private:
  explicit KeySet(Algorithm algorithm) : algorithm_(algorithm) {}
  Algorithm algorithm_;
  std::vector<std::pair<std::string, Key>> keys_;  // kid ("" for a key without one), key
};

// An HS256 secret's file must be readable by its owner only; throws KeyError
// naming the mode otherwise (also used by `dicomd token`).
std::string read_secret_file(const std::filesystem::path& path);

}  // namespace dicomd::auth
