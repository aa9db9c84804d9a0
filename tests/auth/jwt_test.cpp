// auth-jwt's token checks (jwt_verify.h) with real keys: HS256, RS256 and
// ES256 tokens, key rotation through a JWKS, every way a token can be
// wrong — including the three libjwt 1.10 attacks (alg "none", HS256
// signed with the RSA public key, no expiry check) — and hostile bytes.
#include <gtest/gtest.h>

#include <chrono>

#include "base64url.h"
#include "jwt_signing.h"
#include "jwt_verify.h"
#include "policy.h"
#include "server_process.h"
#include "temp_dir.h"

using namespace dicomd::auth;
using namespace dicomd::test;

namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef-test-secret";

std::string claims(int64_t exp_from_now = 600, const std::string& extra = "") {
  return R"({"sub":"alice","role":"standard","exp":)" + std::to_string(unix_now() + exp_from_now) + extra + "}";
}

std::string hs256(const std::string& claims_json, const std::string& secret = kSecret,
                  const std::string& header = R"({"alg":"HS256","typ":"JWT"})") {
  return sign_hs256(unsigned_token(header, claims_json), secret);
}

// The TokenError's reason, or "" when the token is accepted.
std::string refusal(const std::string& token, const KeySet& keys, const VerifyOptions& options = {}) {
  try {
    verify_token(token, keys, options, unix_now());
    return "";
  } catch (const TokenError& e) {
    return e.what();
  }
}

class Keys : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    make_key_pair(dir_->path(), "rsa", false);
    make_key_pair(dir_->path(), "rsa2", false);
    make_key_pair(dir_->path(), "ec", true);
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::filesystem::path path(const std::string& name) { return dir_->path() / name; }
  static inline TempDir* dir_ = nullptr;
};

}  // namespace

TEST(Base64url, RoundTripsAndRefusesWhatNoEncoderWrites) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00z"})
    EXPECT_EQ(base64url_decode(base64url_encode(s)), s);
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_FALSE(base64url_decode("Zm9v="));  // padding
  EXPECT_FALSE(base64url_decode("Zm+v"));   // the other alphabet
  EXPECT_FALSE(base64url_decode("Z"));      // 4k + 1
  EXPECT_FALSE(base64url_decode("Zh"));     // bits past the byte set
}

TEST(Jwt, Hs256TokenGivesItsSubjectAndRole) {
  auto keys = KeySet::from_secret(kSecret);
  auto who = verify_token(hs256(claims()), keys, {}, unix_now());
  EXPECT_EQ(who.subject, "alice");
  EXPECT_EQ(who.role, "standard");
  EXPECT_EQ(refusal(hs256(claims(), kSecret + "x"), keys), "the token's signature is not valid");
}

TEST(Jwt, TimesAreCheckedWithLeeway) {
  auto keys = KeySet::from_secret(kSecret);
  VerifyOptions options;
  options.leeway_s = 30;
  EXPECT_EQ(refusal(hs256(claims(-31)), keys, options), "the token has expired");
  EXPECT_EQ(refusal(hs256(claims(-10)), keys, options), "");  // inside the leeway
  EXPECT_EQ(refusal(hs256(R"({"sub":"a","role":"admin"})"), keys), "the token has no expiry (exp)");
  EXPECT_EQ(refusal(hs256(claims(600, ",\"nbf\":" + std::to_string(unix_now() + 120))), keys, options),
            "the token is not valid yet");
  EXPECT_EQ(refusal(hs256(claims(600, ",\"nbf\":" + std::to_string(unix_now() + 10))), keys, options), "");
  EXPECT_EQ(refusal(hs256(R"({"sub":"a","exp":"tomorrow"})"), keys), "the token's \"exp\" is not a number");
  EXPECT_EQ(refusal(hs256(R"({"sub":"a","exp":1e300})"), keys), "the token's \"exp\" is out of range");
}

TEST(Jwt, IssuerAudienceAndSubjectAreChecked) {
  auto keys = KeySet::from_secret(kSecret);
  VerifyOptions options;
  options.issuer = "https://idp.example";
  options.audience = "dicomd";
  EXPECT_EQ(refusal(hs256(claims(600, R"(,"iss":"https://idp.example","aud":"dicomd")")), keys, options), "");
  EXPECT_EQ(refusal(hs256(claims(600, R"(,"iss":"https://idp.example","aud":["x","dicomd"])")), keys, options), "");
  EXPECT_EQ(refusal(hs256(claims(600, R"(,"iss":"https://evil.example","aud":"dicomd")")), keys, options),
            "the token's issuer is not the configured one");
  EXPECT_EQ(refusal(hs256(claims(600, R"(,"iss":"https://idp.example","aud":"other")")), keys, options),
            "the token is not for the configured audience");
  EXPECT_EQ(refusal(hs256(claims(600, R"(,"iss":"https://idp.example")")), keys, options),
            "the token is not for the configured audience");
  EXPECT_EQ(refusal(hs256(R"({"role":"admin","exp":)" + std::to_string(unix_now() + 60) + "}"), keys),
            "the token has no subject (sub)");
  EXPECT_EQ(refusal(hs256(R"({"sub":"a\nb","exp":)" + std::to_string(unix_now() + 60) + "}"), keys),
            "the token's subject has a control character");
}

// libjwt 1.10 accepts "alg":"none" when no key is passed.
TEST(Jwt, AlgNoneIsRefused) {
  auto keys = KeySet::from_secret(kSecret);
  std::string none = unsigned_token(R"({"alg":"none"})", claims());
  EXPECT_EQ(refusal(none + ".", keys), "the token's algorithm is not HS256");
  EXPECT_EQ(refusal(none + ".c2ln", keys), "the token's algorithm is not HS256");
  EXPECT_EQ(refusal(none, keys), "a token has three parts separated by dots");
}

// libjwt 1.10 verifies an HS256 token whose HMAC key is the RSA public PEM.
TEST_F(Keys, Hs256SignedWithThePublicKeyIsRefused) {
  auto keys = KeySet::from_file(Algorithm::kRS256, path("rsa.pub"));
  std::string pem = read_file(path("rsa.pub"));
  EXPECT_EQ(refusal(hs256(claims(), pem), keys), "the token's algorithm is not RS256");
  EXPECT_THROW(KeySet::from_secret(pem), KeyError);  // nor can a PEM be configured as a secret
}

TEST_F(Keys, Rs256AndEs256TokensWithTheirKeys) {
  auto rsa = KeySet::from_file(Algorithm::kRS256, path("rsa.pub"));
  auto ec = KeySet::from_file(Algorithm::kES256, path("ec.pub"));
  std::string rs = sign_with_key(unsigned_token(R"({"alg":"RS256"})", claims()), path("rsa.key"), false);
  std::string es = sign_with_key(unsigned_token(R"({"alg":"ES256"})", claims()), path("ec.key"), true);
  EXPECT_EQ(refusal(rs, rsa), "");
  EXPECT_EQ(refusal(es, ec), "");
  EXPECT_EQ(refusal(es, rsa), "the token's algorithm is not RS256");
  std::string other = sign_with_key(unsigned_token(R"({"alg":"RS256"})", claims()), path("rsa2.key"), false);
  EXPECT_EQ(refusal(other, rsa), "the token's signature is not valid");
  // A flipped bit in the claims, the signature kept: refused before the claims are read.
  std::string tampered = rs;
  tampered[tampered.find('.') + 5] ^= 1;
  EXPECT_NE(refusal(tampered, rsa), "");
  EXPECT_THROW(KeySet::from_file(Algorithm::kES256, path("rsa.pub")), KeyError);
  EXPECT_THROW(KeySet::from_file(Algorithm::kRS256, path("ec.pub")), KeyError);
}

TEST_F(Keys, AJwksChoosesTheKeyByKidForRotation) {
  std::string jwks = R"({"keys":[)" + jwk_of(path("rsa.pub"), "2026-a") + "," + jwk_of(path("rsa2.pub"), "2026-b") +
                     "," + jwk_of(path("ec.pub"), "ec-1") + "]}";
  write_file(path("jwks.json"), jwks);
  auto keys = KeySet::from_file(Algorithm::kRS256, path("jwks.json"));
  EXPECT_EQ(keys.size(), 2u);  // the EC key is for another algorithm
  auto token = [&](const std::string& kid, const std::string& key) {
    return sign_with_key(unsigned_token(R"({"alg":"RS256","kid":")" + kid + "\"}", claims()), path(key), false);
  };
  EXPECT_EQ(refusal(token("2026-a", "rsa.key"), keys), "");
  EXPECT_EQ(refusal(token("2026-b", "rsa2.key"), keys), "");
  EXPECT_EQ(refusal(token("2026-a", "rsa2.key"), keys), "the token's signature is not valid");
  EXPECT_EQ(refusal(token("2025-z", "rsa.key"), keys), "no key for the token's key id");
  EXPECT_EQ(refusal(sign_with_key(unsigned_token(R"({"alg":"RS256"})", claims()), path("rsa.key"), false), keys),
            "no key for the token's key id");  // two keys: a token must name one
  auto ec = KeySet::from_jwks(Algorithm::kES256, jwks);
  EXPECT_EQ(
      refusal(sign_with_key(unsigned_token(R"({"alg":"ES256","kid":"ec-1"})", claims()), path("ec.key"), true), ec),
      "");
}

TEST_F(Keys, KeyFilesAreCheckedWhenLoaded) {
  write_file(path("short"), "too short");
  std::filesystem::permissions(path("short"), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_THROW(KeySet::from_file(Algorithm::kHS256, path("short")), KeyError);
  write_file(path("open"), kSecret);
  std::filesystem::permissions(path("open"), std::filesystem::perms::owner_read | std::filesystem::perms::others_read);
  try {
    KeySet::from_file(Algorithm::kHS256, path("open"));
    ADD_FAILURE() << "a secret others may read was accepted";
  } catch (const KeyError& e) {
    EXPECT_NE(std::string(e.what()).find("chmod 600"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find(kSecret), std::string::npos);
  }
  write_file(path("secret"), kSecret + "\n");
  std::filesystem::permissions(path("secret"), std::filesystem::perms::owner_read);
  auto keys = KeySet::from_file(Algorithm::kHS256, path("secret"));  // the newline is not part of it
  EXPECT_EQ(refusal(hs256(claims()), keys), "");
  EXPECT_THROW(KeySet::from_file(Algorithm::kRS256, path("secret")), KeyError);
  EXPECT_THROW(KeySet::from_jwks(Algorithm::kRS256, R"({"keys":[]})"), KeyError);
  EXPECT_THROW(KeySet::from_jwks(Algorithm::kRS256, R"([1,2])"), KeyError);
}

// Bytes no client should send are refused with a reason, quickly.
TEST(Jwt, HostileTokensAreRefusedQuickly) {
  auto keys = KeySet::from_secret(kSecret);
  std::string big_claims = R"({"sub":"a","exp":)" + std::to_string(unix_now() + 60);
  for (int i = 0; i < 1000; ++i) big_claims += ",\"c" + std::to_string(i) + "\":" + std::to_string(i);
  std::vector<std::string> tokens = {
      "",
      "a.b",
      "a.b.c.d",
      "!!!.###.$$$",
      std::string(10240, 'A') + ".e30.e30",
      hs256(big_claims + "}"),  // 1,000 claims: over 8 KiB
      base64url("not json") + "." + base64url("{}") + ".c2ln",
      base64url(R"({"alg":"HS256"})") + "." + base64url("[1,2,3]") + ".c2ln",
      base64url(R"({"alg":"HS256"})") + "." + base64url("{\"sub\":\"\xff\"}") + ".c2ln",
      base64url(R"({"alg":"HS256","crit":["exp"]})") + "." + base64url(claims()) + ".c2ln",
      hs256(claims(), kSecret, R"({"alg":"HS256","kid":7})"),
  };
  auto start = std::chrono::steady_clock::now();
  for (const auto& t : tokens) EXPECT_NE(refusal(t, keys), "") << t.substr(0, 80);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(Policy, RolesAndTheDefault) {
  Policy policy({{"GET /hello", Access::kRead}});
  EXPECT_EQ(policy.access("GET", "/files/:study"), Access::kRead);
  EXPECT_EQ(policy.access("HEAD", "/files/:study"), Access::kRead);  // HEAD is answered by GET
  EXPECT_EQ(policy.access("GET", "/hello"), Access::kRead);
  EXPECT_EQ(policy.access("POST", "/hello"), std::nullopt);
  EXPECT_FALSE(allowed(Role::kReadOnly, Access::kWrite));
  EXPECT_TRUE(allowed(Role::kStandard, Access::kDeleteOwn));
  EXPECT_FALSE(allowed(Role::kStandard, Access::kAdmin));
  EXPECT_FALSE(allowed(Role::kNone, Access::kRead));
  EXPECT_TRUE(allowed(Role::kNone, Access::kOpen));
  EXPECT_EQ(role_named("Admin"), Role::kNone);  // exact names only
}
