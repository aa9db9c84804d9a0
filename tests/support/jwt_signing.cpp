#include "jwt_signing.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>

#include "base64url.h"
#include "dicom_files.h"

namespace dicomd::test {
namespace {

EVP_PKEY* read_key(const std::filesystem::path& path, bool is_private) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) throw std::runtime_error("cannot open " + path.string());
  EVP_PKEY* key =
      is_private ? PEM_read_PrivateKey(f, nullptr, nullptr, nullptr) : PEM_read_PUBKEY(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!key) throw std::runtime_error("no key in " + path.string());
  return key;
}

std::string bignum_bytes(const BIGNUM* n, int width = 0) {
  std::string out(static_cast<size_t>(width ? width : BN_num_bytes(n)), '\0');
  BN_bn2binpad(n, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  return out;
}

}  // namespace

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string base64url(const std::string& bytes) {
  return auth::base64url_encode(bytes);
}

std::string unsigned_token(const std::string& header_json, const std::string& claims_json) {
  return base64url(header_json) + "." + base64url(claims_json);
}

std::string sign_hs256(const std::string& input, const std::string& secret) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &length);
  return input + "." + base64url(std::string(reinterpret_cast<char*>(mac), length));
}

std::string sign_with_key(const std::string& input, const std::filesystem::path& private_pem, bool ecdsa) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(read_key(private_pem, true), EVP_PKEY_free);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t length = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, reinterpret_cast<const unsigned char*>(input.data()), input.size()) !=
          1)
    throw std::runtime_error("cannot sign");
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    throw std::runtime_error("cannot sign");
  signature.resize(length);
  if (ecdsa) {  // DER -> r || s
    const unsigned char* p = reinterpret_cast<const unsigned char*>(signature.data());
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(
        d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(signature.size())), ECDSA_SIG_free);
    if (!sig) throw std::runtime_error("cannot read the ECDSA signature");
    signature = bignum_bytes(ECDSA_SIG_get0_r(sig.get()), 32) + bignum_bytes(ECDSA_SIG_get0_s(sig.get()), 32);
  }
  return input + "." + base64url(signature);
}

void make_key_pair(const std::filesystem::path& dir, const std::string& name, bool ecdsa) {
  std::string key = shell_quote((dir / (name + ".key")).string()), pub = shell_quote((dir / (name + ".pub")).string());
  std::string algorithm =
      ecdsa ? "-algorithm EC -pkeyopt ec_paramgen_curve:P-256" : "-algorithm RSA -pkeyopt rsa_keygen_bits:2048";
  int status = 0;
  run_command("openssl genpkey " + algorithm + " -out " + key + " 2>&1 && openssl pkey -in " + key + " -pubout -out " +
                  pub + " 2>&1",
              &status);
  if (status != 0) throw std::runtime_error("openssl could not make a key pair");
}

std::string jwk_of(const std::filesystem::path& public_pem, const std::string& kid) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(read_key(public_pem, false), EVP_PKEY_free);
  if (EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_RSA) {
    BIGNUM *n = nullptr, *e = nullptr;
    EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_E, &e);
    std::string jwk = R"({"kty":"RSA","kid":")" + kid + R"(","use":"sig","n":")" + base64url(bignum_bytes(n)) +
                      R"(","e":")" + base64url(bignum_bytes(e)) + "\"}";
    BN_free(n);
    BN_free(e);
    return jwk;
  }
  BIGNUM *x = nullptr, *y = nullptr;
  EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_X, &x);
  EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, &y);
  std::string jwk = R"({"kty":"EC","kid":")" + kid + R"(","crv":"P-256","x":")" + base64url(bignum_bytes(x, 32)) +
                    R"(","y":")" + base64url(bignum_bytes(y, 32)) + "\"}";
  BN_free(x);
  BN_free(y);
  return jwk;
}

}  // namespace dicomd::test
