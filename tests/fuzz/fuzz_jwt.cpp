// A token as a client sends it, through auth-jwt's checks with an HS256
// key: base64url, the header and claims JSON, the signature and the times.
// Whatever the bytes: a TokenError, or — only for a token this fuzzer could
// not have signed — never an acceptance. The input's first byte chooses
// whether the rest is signed (so the claims checks are reached too).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base64url.h"
#include "jwt_verify.h"

namespace {

const std::string kSecret = "fuzz-secret-fuzz-secret-fuzz-secret-0123";

const dicomd::auth::KeySet& keys() {
  static const auto set = dicomd::auth::KeySet::from_secret(kSecret);
  return set;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string token(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool sign = data[0] & 1;
  if (sign) {  // the input is "header.claims": signed here
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
         reinterpret_cast<const unsigned char*>(token.data()), token.size(), mac, &length);
    token += "." + dicomd::auth::base64url_encode(std::string_view(reinterpret_cast<char*>(mac), length));
  }
  dicomd::auth::VerifyOptions options;
  options.issuer = "iss";
  options.audience = "aud";
  try {
    auto who = dicomd::auth::verify_token(token, keys(), options, 1'800'000'000);
    if (!sign || who.subject.empty()) __builtin_trap();  // accepted without our signature, or without a subject
  } catch (const dicomd::auth::TokenError&) {
  }
  return 0;
}
