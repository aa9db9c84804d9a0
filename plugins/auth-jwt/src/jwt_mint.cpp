#include "jwt_mint.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <stdexcept>

#include "base64url.h"
#include "policy.h"

namespace dicomd::auth {

std::string mint_hs256(std::string_view secret, std::string_view subject, std::string_view role, int64_t now,
                       int64_t ttl_s) {
  if (role_named(role) == Role::kNone) throw std::invalid_argument("--role must be read-only, standard or admin");
  if (subject.empty() || subject.size() > 255) throw std::invalid_argument("--sub must be 1 to 255 bytes");
  for (unsigned char c : subject)
    if (c < 0x20 || c == 0x7f) throw std::invalid_argument("--sub must not hold control characters");
  if (ttl_s < 1 || ttl_s > int64_t{10} * 366 * 24 * 3600) throw std::invalid_argument("--ttl must be 1 s to 10 years");

  rapidjson::StringBuffer claims;
  rapidjson::Writer<rapidjson::StringBuffer> w(claims);
  w.StartObject();
  w.Key("sub");
  w.String(subject.data(), static_cast<rapidjson::SizeType>(subject.size()));
  w.Key("role");
  w.String(role.data(), static_cast<rapidjson::SizeType>(role.size()));
  w.Key("iat");
  w.Int64(now);
  w.Key("exp");
  w.Int64(now + ttl_s);
  w.EndObject();

  std::string token = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
  token += '.';
  token += base64url_encode(std::string_view(claims.GetString(), claims.GetSize()));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
            reinterpret_cast<const unsigned char*>(token.data()), token.size(), mac, &length))
    throw std::runtime_error("HMAC failed");
  token += '.';
  token += base64url_encode(std::string_view(reinterpret_cast<char*>(mac), length));
  return token;
}

}  // namespace dicomd::auth
