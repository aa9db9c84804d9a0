#include "jwt_verify.h"

#include <rapidjson/document.h>

#include <cmath>
#include <optional>

#include "base64url.h"

namespace dicomd::auth {
namespace {

rapidjson::Document json_part(std::string_view encoded, const char* what) {
  auto bytes = base64url_decode(encoded);
  if (!bytes) throw TokenError(std::string("the token's ") + what + " is not base64url");
  rapidjson::Document d;
  d.Parse(bytes->data(), bytes->size());
  if (d.HasParseError() || !d.IsObject())
    throw TokenError(std::string("the token's ") + what + " is not a JSON object");
  return d;
}

std::optional<std::string> string_member(const rapidjson::Value& object, const char* name) {
  if (!object.HasMember(name)) return std::nullopt;
  const auto& v = object[name];
  if (!v.IsString()) throw TokenError(std::string("the token's \"") + name + "\" is not a string");
  return std::string(v.GetString(), v.GetStringLength());
}

// A NumericDate (seconds since the epoch), as a whole number of seconds.
std::optional<int64_t> time_member(const rapidjson::Value& claims, const char* name) {
  if (!claims.HasMember(name)) return std::nullopt;
  const auto& v = claims[name];
  if (!v.IsNumber()) throw TokenError(std::string("the token's \"") + name + "\" is not a number");
  double seconds = v.GetDouble();
  if (!std::isfinite(seconds) || std::fabs(seconds) > 1e15)
    throw TokenError(std::string("the token's \"") + name + "\" is out of range");
  return static_cast<int64_t>(std::floor(seconds));
}

bool audience_matches(const rapidjson::Value& claims, const std::string& audience) {
  if (!claims.HasMember("aud")) return false;
  const auto& aud = claims["aud"];
  if (aud.IsString()) return audience == std::string_view(aud.GetString(), aud.GetStringLength());
  if (!aud.IsArray()) return false;
  for (const auto& one : aud.GetArray())
    if (one.IsString() && audience == std::string_view(one.GetString(), one.GetStringLength())) return true;
  return false;
}

}  // namespace

VerifiedToken verify_token(std::string_view token, const KeySet& keys, const VerifyOptions& options, int64_t now) {
  if (token.empty()) throw TokenError("no token");
  if (token.size() > kMaxTokenBytes) throw TokenError("the token is longer than 8 KiB");
  size_t first = token.find('.'), second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    throw TokenError("a token has three parts separated by dots");
  std::string_view header_part = token.substr(0, first), claims_part = token.substr(first + 1, second - first - 1);
  std::string_view signature_part = token.substr(second + 1);

  // The algorithm is the configured one, never what the token asks for:
  // "none", or HS256 against a public key, fail here.
  rapidjson::Document header = json_part(header_part, "header");
  auto alg = string_member(header, "alg");
  if (!alg || *alg != name_of(keys.algorithm()))
    throw TokenError("the token's algorithm is not " + std::string(name_of(keys.algorithm())));
  if (header.HasMember("crit")) throw TokenError("the token has critical header parameters");
  const Key* key = keys.find(string_member(header, "kid"));
  if (!key) throw TokenError("no key for the token's key id");
  auto signature = base64url_decode(signature_part);
  if (!signature || signature->empty()) throw TokenError("the token's signature is not base64url");
  if (!key->verify(keys.algorithm(), token.substr(0, second), *signature))
    throw TokenError("the token's signature is not valid");

  // Claims only once the signature holds: nothing unsigned is believed.
  rapidjson::Document claims = json_part(claims_part, "claims");
  auto exp = time_member(claims, "exp");
  if (!exp) throw TokenError("the token has no expiry (exp)");
  VerifiedToken out;
  out.valid_until = *exp + options.leeway_s;
  if (now >= out.valid_until) throw TokenError("the token has expired");
  if (auto nbf = time_member(claims, "nbf")) {
    out.valid_from = *nbf - options.leeway_s;
    if (now < out.valid_from) throw TokenError("the token is not valid yet");
  }
  if (!options.issuer.empty() && string_member(claims, "iss") != options.issuer)
    throw TokenError("the token's issuer is not the configured one");
  if (!options.audience.empty() && !audience_matches(claims, options.audience))
    throw TokenError("the token is not for the configured audience");
  auto subject = string_member(claims, "sub");
  if (!subject || subject->empty() || subject->size() > 255) throw TokenError("the token has no subject (sub)");
  for (unsigned char c : *subject)  // it goes into log lines and the uploader's record
    if (c < 0x20 || c == 0x7f) throw TokenError("the token's subject has a control character");
  out.subject = std::move(*subject);
  if (claims.HasMember(options.role_claim.c_str()) && claims[options.role_claim.c_str()].IsString())
    out.role = claims[options.role_claim.c_str()].GetString();
  return out;
}

}  // namespace dicomd::auth
