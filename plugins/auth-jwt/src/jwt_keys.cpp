#include "jwt_keys.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <rapidjson/document.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "base64url.h"

namespace dicomd::auth {
namespace {

constexpr size_t kMinSecretBytes = 32;
constexpr int kMinRsaBits = 2048;
constexpr size_t kMaxKeyFileBytes = 1 << 20;

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using Bignum = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using MdContext = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using PkeyContext = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using ParamBuilder = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using EcdsaSignature = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw KeyError("cannot read the key file");
  std::string bytes;
  bytes.resize(kMaxKeyFileBytes + 1);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<size_t>(in.gcount()));
  if (bytes.size() > kMaxKeyFileBytes) throw KeyError("the key file is larger than 1 MiB");
  return bytes;
}

Bignum bignum_of(std::string_view bytes) {
  Bignum n(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr));
  if (!n) throw KeyError("out of memory");
  return n;
}

// The key must suit the algorithm; throws KeyError otherwise.
void check_key_type(Algorithm algorithm, EVP_PKEY* key) {
  if (algorithm == Algorithm::kRS256) {
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) throw KeyError("RS256 needs an RSA public key");
    if (EVP_PKEY_get_bits(key) < kMinRsaBits) throw KeyError("RS256 needs an RSA key of at least 2048 bits");
    return;
  }
  if (algorithm != Algorithm::kES256 || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
    throw KeyError("ES256 needs an EC public key on P-256");
  char group[64];
  size_t length = 0;
  if (!EVP_PKEY_get_group_name(key, group, sizeof group, &length) || std::string_view(group, length) != "prime256v1")
    throw KeyError("ES256 needs an EC public key on P-256");
}

EvpKey key_from_params(const char* type, OSSL_PARAM_BLD* builder) {
  Params params(OSSL_PARAM_BLD_to_param(builder));
  PkeyContext context(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !context || EVP_PKEY_fromdata_init(context.get()) <= 0 ||
      EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0)
    throw KeyError("a JWKS key is not a valid public key");
  return EvpKey(key);
}

std::string member_text(const rapidjson::Value& jwk, const char* name) {
  if (!jwk.HasMember(name) || !jwk[name].IsString()) return "";
  return {jwk[name].GetString(), jwk[name].GetStringLength()};
}

std::string decoded_member(const rapidjson::Value& jwk, const char* name) {
  auto bytes = base64url_decode(member_text(jwk, name));
  if (!bytes || bytes->empty()) throw KeyError(std::string("a JWKS key has no valid \"") + name + "\"");
  return *bytes;
}

// One JWK as a public key for `algorithm`; nullopt when it is for another
// algorithm or use.
std::optional<EvpKey> jwk_key(Algorithm algorithm, const rapidjson::Value& jwk) {
  std::string kty = member_text(jwk, "kty"), use = member_text(jwk, "use"), alg = member_text(jwk, "alg");
  if (!use.empty() && use != "sig") return std::nullopt;
  if (!alg.empty() && alg != name_of(algorithm)) return std::nullopt;
  ParamBuilder builder(OSSL_PARAM_BLD_new());
  if (!builder) throw KeyError("out of memory");
  if (algorithm == Algorithm::kRS256 && kty == "RSA") {
    Bignum n = bignum_of(decoded_member(jwk, "n")), e = bignum_of(decoded_member(jwk, "e"));
    if (!OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
        !OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()))
      throw KeyError("out of memory");
    return key_from_params("RSA", builder.get());
  }
  if (algorithm == Algorithm::kES256 && kty == "EC") {
    if (member_text(jwk, "crv") != "P-256") return std::nullopt;
    std::string x = decoded_member(jwk, "x"), y = decoded_member(jwk, "y");
    if (x.size() != 32 || y.size() != 32) throw KeyError("a P-256 JWKS key needs 32-byte x and y");
    std::string point(1, '\x04');  // uncompressed: 04, x, y
    point += x;
    point += y;
    if (!OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()))
      throw KeyError("out of memory");
    return key_from_params("EC", builder.get());
  }
  return std::nullopt;
}

bool verify_hs256(std::string_view secret, std::string_view input, std::string_view signature) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
            reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &length))
    return false;
  return signature.size() == length && CRYPTO_memcmp(mac, signature.data(), length) == 0;
}

bool verify_with_key(EVP_PKEY* key, std::string_view input, std::string_view der_signature) {
  MdContext context(EVP_MD_CTX_new());
  return context && EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
         EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(der_signature.data()),
                          der_signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                          input.size()) == 1;
}

// JWS writes an ES256 signature as r and s, 32 bytes each; OpenSSL wants DER.
std::optional<std::string> ecdsa_der(std::string_view signature) {
  if (signature.size() != 64) return std::nullopt;
  EcdsaSignature sig(ECDSA_SIG_new());
  Bignum r = bignum_of(signature.substr(0, 32)), s = bignum_of(signature.substr(32));
  if (!sig || !ECDSA_SIG_set0(sig.get(), r.get(), s.get())) return std::nullopt;
  r.release(), s.release();  // owned by sig now
  unsigned char* der = nullptr;
  int length = i2d_ECDSA_SIG(sig.get(), &der);
  if (length <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return out;
}

}  // namespace

std::optional<Algorithm> algorithm_named(std::string_view name) {
  if (name == "HS256") return Algorithm::kHS256;
  if (name == "RS256") return Algorithm::kRS256;
  if (name == "ES256") return Algorithm::kES256;
  return std::nullopt;
}

std::string_view name_of(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kHS256:
      return "HS256";
    case Algorithm::kRS256:
      return "RS256";
    case Algorithm::kES256:
      return "ES256";
  }
  return "";
}

void EvpKeyDeleter::operator()(EVP_PKEY* key) const {
  EVP_PKEY_free(key);
}

Key Key::secret(std::string bytes) {
  Key k;
  k.secret_ = std::move(bytes);
  return k;
}

Key Key::public_key(EvpKey key) {
  Key k;
  k.public_key_ = std::shared_ptr<EVP_PKEY>(key.release(), EvpKeyDeleter{});
  return k;
}

bool Key::verify(Algorithm algorithm, std::string_view input, std::string_view signature) const {
  switch (algorithm) {
    case Algorithm::kHS256:
      return !secret_.empty() && verify_hs256(secret_, input, signature);
    case Algorithm::kRS256:
      return public_key_ && verify_with_key(public_key_.get(), input, signature);
    case Algorithm::kES256: {
      auto der = ecdsa_der(signature);
      return public_key_ && der && verify_with_key(public_key_.get(), input, *der);
    }
  }
  return false;
}

std::string read_secret_file(const std::filesystem::path& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) throw KeyError("cannot read the key file");
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    throw KeyError(std::string("the HS256 key file may be read by others (mode ") + mode + "): chmod 600 it");
  }
  std::string secret = read_file(path);
  if (secret.ends_with("\r\n"))
    secret.resize(secret.size() - 2);
  else if (secret.ends_with('\n'))
    secret.pop_back();
  return secret;
}

KeySet KeySet::from_file(Algorithm algorithm, const std::filesystem::path& path) {
  if (algorithm == Algorithm::kHS256) return from_secret(read_secret_file(path));
  std::string text = read_file(path);
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') return from_jwks(algorithm, text);
  return from_pem(algorithm, text);
}

KeySet KeySet::from_secret(std::string secret) {
  if (secret.size() < kMinSecretBytes) throw KeyError("an HS256 secret needs at least 32 bytes");
  if (secret.starts_with("-----BEGIN")) throw KeyError("an HS256 secret must not be a PEM key");
  KeySet set(Algorithm::kHS256);
  set.keys_.emplace_back("", Key::secret(std::move(secret)));
  return set;
}

KeySet KeySet::from_pem(Algorithm algorithm, std::string_view pem) {
  if (algorithm == Algorithm::kHS256) throw KeyError("HS256 takes a secret, not a PEM key");
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EvpKey key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) throw KeyError("the key file holds no PEM public key (-----BEGIN PUBLIC KEY-----)");
  check_key_type(algorithm, key.get());
  KeySet set(algorithm);
  set.keys_.emplace_back("", Key::public_key(std::move(key)));
  return set;
}

KeySet KeySet::from_jwks(Algorithm algorithm, std::string_view json) {
  if (algorithm == Algorithm::kHS256) throw KeyError("HS256 takes a secret, not a JWKS");
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("keys") || !d["keys"].IsArray())
    throw KeyError("a JWKS is a JSON object with a \"keys\" array");
  KeySet set(algorithm);
  for (const auto& jwk : d["keys"].GetArray()) {
    if (!jwk.IsObject()) continue;
    auto key = jwk_key(algorithm, jwk);
    if (!key) continue;
    check_key_type(algorithm, key->get());
    std::string kid = member_text(jwk, "kid");
    for (const auto& [other, unused] : set.keys_)
      if (other == kid) throw KeyError("two JWKS keys share the kid \"" + kid + "\"");
    set.keys_.emplace_back(std::move(kid), Key::public_key(std::move(*key)));
  }
  if (set.keys_.empty()) throw KeyError("the JWKS has no key for " + std::string(name_of(algorithm)));
  return set;
}

const Key* KeySet::find(const std::optional<std::string>& kid) const {
  if (!kid) return keys_.size() == 1 ? &keys_.front().second : nullptr;
  for (const auto& [id, key] : keys_)
    if (id == *kid) return &key;
  // A single key without a kid (a PEM file) also checks tokens that name one.
  return keys_.size() == 1 && keys_.front().first.empty() ? &keys_.front().second : nullptr;
}

}  // namespace dicomd::auth
