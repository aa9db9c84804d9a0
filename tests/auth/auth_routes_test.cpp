// auth-jwt on the real dicomd (every core plugin, the index and search), over
// loopback HTTP: every mounted route × every kind of token gets the exact
// status API.md's policy gives it; the cookie login; a standard role deletes
// only its own uploads; the audit log; refusals at start. And on the
// in-process host: a route no policy entry names is denied to everyone.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "core_server.h"
#include "jwt_signing.h"
#include "test_host.h"

using namespace dicomd::test;

namespace {

const std::string kSecret = "auth-routes-test-secret-0123456789abcdef";
const std::string kIssuer = "https://idp.test";
const std::string kAudience = "dicomd";
const std::string kChallenge = R"(Bearer realm="dicomd", error="invalid_token")";

std::string claims_json(const std::string& role, const std::string& subject, int64_t exp_from_now,
                        const std::string& extra = "") {
  std::string out = R"({"sub":")" + subject + R"(","iss":")" + kIssuer + R"(","aud":")" + kAudience + R"(","exp":)" +
                    std::to_string(unix_now() + exp_from_now) + extra;
  if (!role.empty()) out += R"(,"role":")" + role + "\"";
  return out + "}";
}

std::string hs256_token(const std::string& claims, const std::string& secret = kSecret) {
  return sign_hs256(unsigned_token(R"({"alg":"HS256","typ":"JWT"})", claims), secret);
}

std::string token_for(const std::string& role) {
  return hs256_token(claims_json(role, "user-" + role, 600));
}

std::string ct_bytes() {
  static const std::string bytes = read_file(pydicom_data_dir() / "test_files" / "CT_small.dcm");
  return bytes;
}

// dicomd with the default plugins and auth-jwt (HS256, issuer, audience).
class AuthServer {
 public:
  explicit AuthServer(const std::string& auth_extra = "", bool issuer_and_audience = true) {
    write_file(keys_.path() / "secret", kSecret + "\n");
    std::filesystem::permissions(keys_.path() / "secret", std::filesystem::perms::owner_read);
    server_ = std::make_unique<CoreServer>(
        std::vector<std::string>{},
        R"({"listen":"127.0.0.1:0","plugins":[{"name":"storage-fs"},{"name":"files"},{"name":"validator-gdcm"},{"name":"metadata-gdcm"},)"
        R"({"name":"render-png"},{"name":"index-sqlite"},{"name":"search"},{"name":"jobs"},)"
        R"({"name":"dicomweb","config":{"cors":{"origins":["http://viewer.test"]}}},)"
        R"({"name":"auth-jwt","config":{"algorithm":"HS256","key_file":")" +
            (keys_.path() / "secret").string() + "\"" +
            (issuer_and_audience ? R"(,"issuer":")" + kIssuer + R"(","audience":")" + kAudience + "\"" : "") +
            auth_extra + "}}]}");
  }
  HttpReply send(const std::string& method, const std::string& target, const std::string& token,
                 const std::string& body = "", std::map<std::string, std::string> headers = {}) {
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    return request(server_->port(), method, target, body, headers);
  }
  HttpReply upload(const std::string& study, const std::string& name, const std::string& token) {
    auto [type, body] = multipart_body({{"study", study}}, {{"files", name, ct_bytes()}});
    return send("POST", "/upload", token, body, {{"Content-Type", type}});
  }
  std::string key_dir() const { return keys_.path().string(); }
  std::string key_file() const { return (keys_.path() / "secret").string(); }
  CoreServer& server() { return *server_; }

 private:
  TempDir keys_;
  std::unique_ptr<CoreServer> server_;
};

// What API.md's policy gives each route: the test's own table, so that a
// route mounted without an entry here fails the matrix.
const std::map<std::string, std::string> kExpected = {
    {"GET /", "open"},
    {"GET /health", "open"},
    {"POST /login", "open"},
    {"POST /logout", "open"},
    {"GET /files", "read"},
    {"GET /files/:study", "read"},
    {"GET /files/:study/:file", "read"},
    {"GET /files/:study/:file/tag", "read"},
    {"GET /files/:study/:file/tags", "read"},
    {"GET /files/:study/:file/png", "read"},
    {"GET /search", "read"},
    {"POST /upload", "write"},
    {"POST /validate", "write"},
    {"DELETE /files/:study/:file", "write"},  // standard: its own uploads
    {"DELETE /files/:study", "admin"},
    {"GET /plugins", "admin"},
    {"POST /jobs", "write"},
    {"GET /jobs", "read"},
    {"GET /jobs/:id", "read"},
    {"GET /jobs/:id/result", "read"},
    {"DELETE /jobs/:id", "write"},
    {"POST /dicom-web/studies", "write"},
    {"POST /dicom-web/studies/:study", "write"},
};

// DICOMweb: every GET reads; every preflight is open (it carries no token).
bool is_dicomweb(const std::string& route) {
  return route.find(" /dicom-web/") != std::string::npos;
}
std::string expected_access(const std::string& route) {
  if (auto e = kExpected.find(route); e != kExpected.end()) return e->second;
  if (is_dicomweb(route) && route.starts_with("GET ")) return "read";
  if (is_dicomweb(route) && route.starts_with("OPTIONS ")) return "open";
  return "";
}

const std::string kCtStudy = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322";
const std::string kCtSeries = "1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322";
const std::string kCtInstance = "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322";

bool role_may(const std::string& role, const std::string& access) {
  if (access == "open") return true;
  if (access == "read") return role == "read-only" || role == "standard" || role == "admin";
  if (access == "write") return role == "standard" || role == "admin";
  return role == "admin";
}

struct Prepared {
  std::string method, target, body;
  std::map<std::string, std::string> headers;
};

}  // namespace

TEST(AuthMatrix, EveryMountedRouteAnswersEveryTokenAsThePolicySays) {
  AuthServer s;
  const std::string admin = token_for("admin");
  ASSERT_EQ(s.upload("s", "ct.dcm", admin).status, 201);

  // The mounted routes: every plugin's (GET /plugins) and the host's own.
  auto plugins = parse_json(s.send("GET", "/plugins", admin).body);
  ASSERT_TRUE(plugins.IsObject() && plugins.HasMember("plugins")) << "GET /plugins as admin";
  std::set<std::string> routes = {"GET /health", "GET /plugins"};
  for (const auto& p : plugins["plugins"].GetArray())
    for (const auto& r : p["routes"].GetArray())
      routes.insert(std::string(r["method"].GetString()) + " " + r["path"].GetString());
  ASSERT_GE(routes.size(), kExpected.size());

  int serial = 0;
  // A request each route can answer with 2xx when allowed; destructive ones
  // get a file of their own first (uploaded with `token` when its role may,
  // so that a standard role deletes its own).
  auto prepare = [&](const std::string& route, const std::string& token, const std::string& role) {
    std::string n = std::to_string(++serial);
    if (route == "POST /login")
      return Prepared{"POST", "/login", R"({"token":")" + admin + "\"}", {{"Content-Type", "application/json"}}};
    if (route == "POST /upload" || route == "POST /validate") {
      auto [type, body] = multipart_body({{"study", "up"}}, {{"files", "u" + n + ".dcm", ct_bytes()}});
      return Prepared{"POST", route.substr(5), body, {{"Content-Type", type}}};
    }
    if (route == "DELETE /files/:study/:file") {
      EXPECT_EQ(s.upload("del", "d" + n + ".dcm", role_may(role, "write") ? token : admin).status, 201);
      return Prepared{"DELETE", "/files/del/d" + n + ".dcm", "", {}};
    }
    if (route == "DELETE /files/:study") {
      EXPECT_EQ(s.upload("gone" + n, "g.dcm", admin).status, 201);
      return Prepared{"DELETE", "/files/gone" + n, "", {}};
    }
    const std::string animation = R"({"type":"animate","study":"s","file":"ct.dcm","format":"gif","size":32})";
    if (route == "POST /jobs") return Prepared{"POST", "/jobs", animation, {{"Content-Type", "application/json"}}};
    if (route.find(":id") != std::string::npos) {
      // A job of its own, done before it is read.
      HttpReply job = s.send("POST", "/jobs", admin, animation, {{"Content-Type", "application/json"}});
      std::string id = job.body.substr(job.body.find("\"job\":") + 6);
      id = id.substr(0, id.find_first_not_of("0123456789"));
      for (int i = 0; i < 200 && s.send("GET", "/jobs/" + id, admin).body.find("\"done\"") == std::string::npos; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
      std::string target = route.substr(route.find(' ') + 1);
      target.replace(target.find(":id"), 3, id);
      return Prepared{route.substr(0, route.find(' ')), target, "", {}};
    }
    if (route.starts_with("POST /dicom-web/studies")) {
      std::string body = "--b\r\nContent-Type: application/dicom\r\n\r\n" + ct_bytes() + "\r\n--b--\r\n";
      std::string target = route.ends_with(":study") ? "/dicom-web/studies/" + kCtStudy : "/dicom-web/studies";
      return Prepared{
          "POST", target, body, {{"Content-Type", "multipart/related; type=\"application/dicom\"; boundary=b"}}};
    }
    if (is_dicomweb(route)) {
      std::string target = route.substr(route.find(' ') + 1);
      for (auto [param, value] :
           {std::pair{":study", kCtStudy}, std::pair{":series", kCtSeries}, std::pair{":instance", kCtInstance},
            std::pair{":frames", std::string("1")}, std::pair{":tag", std::string("7FE00010")}})
        if (auto at = target.find(param); at != std::string::npos) target.replace(at, std::string(param).size(), value);
      std::map<std::string, std::string> headers;
      if (route.starts_with("OPTIONS "))
        headers = {{"Origin", "http://viewer.test"}, {"Access-Control-Request-Method", "GET"}};
      return Prepared{route.substr(0, route.find(' ')), target, "", headers};
    }
    std::string target = route.substr(route.find(' ') + 1);
    for (auto [param, value] : {std::pair{":study", "s"}, std::pair{":file", "ct.dcm"}})
      if (auto at = target.find(param); at != std::string::npos) target.replace(at, std::string(param).size(), value);
    if (route == "GET /files/:study/:file/tag") target += "?tag=Rows";
    if (route == "GET /search") target += "?level=study";
    return Prepared{route.substr(0, route.find(' ')), target, "", {}};
  };

  const std::string other_secret = std::string(kSecret.rbegin(), kSecret.rend());
  const std::map<std::string, std::string> refused = {
      {"no token", ""},
      {"malformed", "not-a-token"},
      {"expired", hs256_token(claims_json("admin", "x", -120))},
      {"not yet valid", hs256_token(claims_json("admin", "x", 600, ",\"nbf\":" + std::to_string(unix_now() + 300)))},
      {"bad signature", hs256_token(claims_json("admin", "x", 600), other_secret)},
      {"wrong issuer", hs256_token(R"({"sub":"x","role":"admin","iss":"https://evil.test","aud":"dicomd","exp":)" +
                                   std::to_string(unix_now() + 600) + "}")},
      {"wrong audience", hs256_token(R"({"sub":"x","role":"admin","iss":")" + kIssuer + R"(","aud":"other","exp":)" +
                                     std::to_string(unix_now() + 600) + "}")},
      {"alg none", unsigned_token(R"({"alg":"none"})", claims_json("admin", "x", 600)) + "."},
  };
  const std::vector<std::string> roles = {"read-only", "standard", "admin", ""};  // "": no role claim

  for (const auto& route : routes) {
    SCOPED_TRACE(route);
    const std::string access = expected_access(route);
    if (access.empty()) {
      ADD_FAILURE() << "mounted route " << route << " has no expectation in this test";
      continue;
    }
    for (const auto& [label, token] : refused) {
      Prepared p = prepare(route, admin, "admin");  // prepared as the admin; sent with the bad token
      HttpReply r = s.send(p.method, p.target, token, p.body, p.headers);
      if (access == "open") {
        EXPECT_LT(r.status, 300) << label << ": " << r.body;
        continue;
      }
      EXPECT_EQ(r.status, 401) << label << ": " << r.body;
      EXPECT_EQ(r.header("www-authenticate"), kChallenge) << label;
      EXPECT_EQ(r.body.find(kSecret), std::string::npos);
      EXPECT_EQ(r.body.find(s.key_dir()), std::string::npos);
    }
    for (const auto& role : roles) {
      std::string token = hs256_token(claims_json(role, "user-" + (role.empty() ? "none" : role), 600));
      Prepared p = prepare(route, token, role);
      HttpReply r = s.send(p.method, p.target, token, p.body, p.headers);
      if (role_may(role, access))
        EXPECT_TRUE(r.status >= 200 && r.status < 300) << "role " << role << ": " << r.status << " " << r.body;
      else
        EXPECT_EQ(r.status, 403) << "role " << role << ": " << r.body;
      EXPECT_EQ(r.body.find(kSecret), std::string::npos);
      EXPECT_EQ(r.body.find(s.key_dir()), std::string::npos);
    }
  }
  // An unknown path: 401 without a valid token (nothing leaks), 404 with one.
  EXPECT_EQ(s.send("GET", "/nothing/here", "").status, 401);
  EXPECT_EQ(s.send("GET", "/nothing/here", token_for("read-only")).status, 404);
}

// Tokens no client should send: each is 401 with the challenge, quickly,
// never a 500, whatever route it is sent to.
TEST(AuthAttacks, HostileTokensAre401Quickly) {
  AuthServer s;
  std::string many_claims = R"({"sub":"a","role":"admin","exp":)" + std::to_string(unix_now() + 600);
  for (int i = 0; i < 1000; ++i) many_claims += ",\"c" + std::to_string(i) + "\":" + std::to_string(i);
  const std::vector<std::string> hostile = {
      std::string(10 * 1024, 'A'),                                                        // 10 KB
      hs256_token(many_claims + "}"),                                                     // 1,000 claims
      base64url("[1,2]") + "." + base64url("not json") + ".c2ln",                         // not JSON
      "!!!!.????.####",                                                                   // not base64url
      base64url(R"({"alg":"HS256"})") + "." + base64url(claims_json("admin", "x", 600)),  // two parts
      "Bearer",
  };
  for (const auto& token : hostile)
    for (const char* target : {"/files", "/plugins", "/files/s/x/png"}) {
      auto start = std::chrono::steady_clock::now();
      auto r = s.send("GET", target, token);
      EXPECT_EQ(r.status, 401) << target << " " << token.substr(0, 40) << ": " << r.body;
      EXPECT_EQ(r.header("www-authenticate"), kChallenge);
      EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
    }
  // Another scheme is no token; an empty cookie neither.
  EXPECT_EQ(s.send("GET", "/files", "", "", {{"Authorization", "Basic YWxhZGRpbjpvcGVuc2VzYW1l"}}).status, 401);
  EXPECT_EQ(s.send("GET", "/files", "", "", {{"Cookie", "dicomd_token="}}).status, 401);
}

// libjwt 1.10 verifies an HS256 token whose key is the RSA public PEM; here
// the algorithm is the configured one, whatever the token says.
TEST(AuthAttacks, Hs256SignedWithTheRsaPublicKeyIsRefused) {
  TempDir keys;
  make_key_pair(keys.path(), "rsa", false);
  CoreServer server(
      {},
      R"({"listen":"127.0.0.1:0","plugins":[{"name":"storage-fs"},{"name":"files"},{"name":"validator-gdcm"},{"name":"metadata-gdcm"},)"
      R"({"name":"auth-jwt","config":{"algorithm":"RS256","key_file":")" +
          (keys.path() / "rsa.pub").string() + "\"}}]}");
  std::string claims = R"({"sub":"mallory","role":"admin","exp":)" + std::to_string(unix_now() + 600) + "}";
  std::string forged = sign_hs256(unsigned_token(R"({"alg":"HS256"})", claims), read_file(keys.path() / "rsa.pub"));
  auto r = request(server.port(), "GET", "/files", "", {{"Authorization", "Bearer " + forged}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("www-authenticate"), kChallenge);
  std::string genuine = sign_with_key(unsigned_token(R"({"alg":"RS256"})", claims), keys.path() / "rsa.key", false);
  EXPECT_EQ(request(server.port(), "GET", "/files", "", {{"Authorization", "Bearer " + genuine}}).status, 200);
}

TEST(AuthLogin, TheCookieCarriesTheTokenForPagesAndImages) {
  AuthServer s;
  const std::string token = token_for("read-only");
  auto login = s.send("POST", "/login", "", R"({"token":")" + token + "\"}", {{"Content-Type", "application/json"}});
  ASSERT_EQ(login.status, 200) << login.body;
  EXPECT_EQ(login.body, R"({"role":"read-only","subject":"user-read-only","success":true})");
  std::string cookie = login.header("set-cookie");
  EXPECT_EQ(cookie.rfind("dicomd_token=" + token + "; ", 0), 0u) << cookie;
  for (const char* part : {"Path=/", "HttpOnly", "SameSite=Strict", "Max-Age="})
    EXPECT_NE(cookie.find(part), std::string::npos) << part;
  EXPECT_EQ(cookie.find("Secure"), std::string::npos);  // only with "cookie_secure" (behind TLS)

  EXPECT_EQ(s.send("GET", "/files", "", "", {{"Cookie", "theme=dark; dicomd_token=" + token}}).status, 200);
  EXPECT_EQ(s.send("GET", "/files", "", "", {{"Cookie", "dicomd_token=" + token + "x"}}).status, 401);
  auto logout = s.send("POST", "/logout", "", "", {{"Cookie", "dicomd_token=" + token}});
  EXPECT_EQ(logout.status, 200);
  EXPECT_NE(logout.header("set-cookie").find("dicomd_token=; "), std::string::npos);
  EXPECT_NE(logout.header("set-cookie").find("Max-Age=0"), std::string::npos);

  auto bad = s.send("POST", "/login", "", R"({"token":"abc"})", {{"Content-Type", "application/json"}});
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.header("www-authenticate"), kChallenge);
  EXPECT_EQ(bad.header("set-cookie"), "");
  EXPECT_EQ(s.send("POST", "/login", "", "token=abc", {{"Content-Type", "application/json"}}).status, 400);
  EXPECT_EQ(s.send("POST", "/login", "", R"({"token":")" + std::string(20000, 'a') + "\"}",
                   {{"Content-Type", "application/json"}})
                .status,
            413);
  EXPECT_EQ(s.send("POST", "/login", "", R"({"token":"abc"})", {{"Content-Type", "text/plain"}}).status, 415);
}

TEST(AuthLogin, ATokenInTheQueryStringIsIgnoredUnlessConfigured) {
  {
    AuthServer s;
    EXPECT_EQ(s.send("GET", "/files?access_token=" + token_for("admin"), "").status, 401);
  }
  AuthServer s(R"(,"query_token":true,"cookie_secure":true)");
  EXPECT_EQ(s.send("GET", "/files?access_token=" + token_for("admin"), "").status, 200);
  auto login = s.send("POST", "/login", "", R"({"token":")" + token_for("admin") + "\"}",
                      {{"Content-Type", "application/json"}});
  EXPECT_NE(login.header("set-cookie").find("; Secure"), std::string::npos);
}

TEST(AuthOwnership, AStandardRoleDeletesOnlyItsOwnUploads) {
  AuthServer s;
  const std::string alice = hs256_token(claims_json("standard", "alice", 600));
  const std::string bob = hs256_token(claims_json("standard", "bob", 600));
  ASSERT_EQ(s.upload("shared", "a.dcm", alice).status, 201);
  ASSERT_EQ(s.upload("shared", "b.dcm", bob).status, 201);
  EXPECT_EQ(s.send("GET", "/files/shared/a.dcm", alice).header("x-dicomd-uploader"), "alice");
  auto refused = s.send("DELETE", "/files/shared/a.dcm", bob);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.body, R"({"error":"only the file's uploader or an admin may delete it","success":false})");
  EXPECT_EQ(s.send("DELETE", "/files/shared/a.dcm", alice).status, 200);
  EXPECT_EQ(s.send("DELETE", "/files/shared/b.dcm", token_for("admin")).status, 200);
  EXPECT_EQ(s.send("DELETE", "/files/shared", bob).status, 403);  // whole studies: admin only
  EXPECT_EQ(s.upload("shared", "c.dcm", token_for("read-only")).status, 403);

  // The audit log names who did what and how it ended, never the token.
  // Its lines are written after the answer was sent: wait for them.
  const std::vector<std::string> lines = {
      R"(audit: POST /upload by "alice" (standard) -> 201)",
      R"(audit: DELETE /files/:study/:file by "bob" (standard) -> 403)",
      R"(audit: DELETE /files/:study/:file by "user-admin" (admin) -> 200)",
      R"(audit: POST /upload by "user-read-only" (read-only) -> 403)",
  };
  std::string log;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto all_there = [&] {
    log = s.server().process().log();
    for (const auto& line : lines)
      if (log.find(line) == std::string::npos) return false;
    return true;
  };
  while (!all_there() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (const auto& line : lines) EXPECT_NE(log.find(line), std::string::npos) << line << "\n" << log;
  EXPECT_EQ(log.find(alice), std::string::npos);
  EXPECT_EQ(log.find(kSecret), std::string::npos);
}

TEST(AuthConfig, AKeyOthersMayReadOrABadSettingStopsTheServer) {
  TempDir dir;
  write_file(dir.path() / "secret", kSecret);
  std::filesystem::permissions(dir.path() / "secret",
                               std::filesystem::perms::owner_read | std::filesystem::perms::others_read);
  auto config = [&](const std::string& auth) {
    write_file(
        dir.path() / "c.json",
        R"({"listen":"127.0.0.1:0","plugins":[{"name":"storage-fs"},{"name":"files"},{"name":"auth-jwt","config":)" +
            auth + "}]}");
    return run_dicomd({"--config", (dir.path() / "c.json").string(), "--data", (dir.path() / "data").string(),
                       "--plugin-dir", core_plugin_dir()});
  };
  std::string key = (dir.path() / "secret").string();
  auto readable = config(R"({"algorithm":"HS256","key_file":")" + key + "\"}");
  EXPECT_NE(readable.exit_code, 0);
  EXPECT_NE(readable.output.find("chmod 600"), std::string::npos) << readable.output;
  EXPECT_EQ(readable.output.find(kSecret), std::string::npos);
  std::filesystem::permissions(dir.path() / "secret", std::filesystem::perms::owner_read);
  const std::vector<std::string> bad_configs = {
      R"({"key_file":")" + key + "\"}",
      R"({"algorithm":"none","key_file":")" + key + "\"}",
      R"({"algorithm":"HS256"})",
      R"({"algorithm":"RS256","key_file":")" + key + "\"}",
      R"({"algorithm":"HS256","key_file":")" + key + R"(","policy":{"GET /x":"all"}})",
      R"({"algorithm":"HS256","key_file":")" + key + R"(","leway_s":5})",
  };
  for (const auto& bad : bad_configs) {
    auto r = config(bad);
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_NE(r.output.find("auth-jwt"), std::string::npos) << r.output;
  }
}

// dicomd token mints what auth-jwt accepts, from the same key file.
TEST(AuthToken, TheOperatorsTokenOpensTheServer) {
  AuthServer s("", false);  // a small team's set-up: no identity provider, so no issuer or audience
  auto minted = run_dicomd({"token", "--key-file", s.key_file(), "--role", "admin", "--sub", "ops", "--ttl", "60"});
  ASSERT_EQ(minted.exit_code, 0) << minted.output;
  std::string token = minted.output.substr(0, minted.output.find('\n'));
  EXPECT_EQ(s.send("GET", "/plugins", token).status, 200);
  auto reader = run_dicomd({"token", "--key-file", s.key_file(), "--role", "read-only", "--sub", "viewer"});
  ASSERT_EQ(reader.exit_code, 0) << reader.output;
  EXPECT_EQ(s.send("GET", "/plugins", reader.output.substr(0, reader.output.find('\n'))).status, 403);
  EXPECT_NE(run_dicomd({"token", "--key-file", s.key_file(), "--role", "root", "--sub", "x"}).exit_code, 0);
  EXPECT_NE(run_dicomd({"token", "--key-file", s.key_file(), "--role", "admin"}).exit_code, 0);
}

// The upload page with auth on, as a browser uses it: the page is open, its
// sign-in posts the token to /login, and the form's upload then carries the
// cookie (same origin). An HTTP-level walk through the page, not a browser.
TEST(AuthPage, ThePageSignsInThenUploadsWithTheCookie) {
  AuthServer s;
  auto page = s.send("GET", "/", "");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find(R"(fetch(path, {method: "POST")"), std::string::npos);
  EXPECT_NE(page.body.find(R"(send("/login")"), std::string::npos);
  EXPECT_NE(page.body.find(R"(<form action="/upload" method="post" enctype="multipart/form-data">)"),
            std::string::npos);

  auto [type, body] = multipart_body({{"study", "page"}}, {{"files", "IM1.dcm", ct_bytes()}});
  EXPECT_EQ(s.send("POST", "/upload", "", body, {{"Content-Type", type}}).status, 401);  // before signing in
  auto login = s.send("POST", "/login", "", R"({"token":")" + token_for("standard") + "\"}",
                      {{"Content-Type", "application/json"}});
  ASSERT_EQ(login.status, 200);
  std::string cookie = login.header("set-cookie").substr(0, login.header("set-cookie").find(';'));
  auto stored = s.send("POST", "/upload", "", body, {{"Content-Type", type}, {"Cookie", cookie}});
  EXPECT_EQ(stored.status, 201) << stored.body;
  EXPECT_NE(stored.body.find(R"("stored":["IM1.dcm"])"), std::string::npos) << stored.body;
  EXPECT_EQ(s.send("GET", "/files/page", "", "", {{"Cookie", cookie}}).body,
            R"({"files":["IM1.dcm"],"filesCount":1,"study":"page","success":true})");
}

// A plugin's route the policy does not name is denied, even to an admin;
// the operator opens it with a "policy" entry.
TEST(AuthDefaultDeny, ARouteNoPolicyNamesIsDenied) {
  TempDir dir;
  write_file(dir.path() / "secret", kSecret);
  std::filesystem::permissions(dir.path() / "secret", std::filesystem::perms::owner_read);
  std::string key = (dir.path() / "secret").string();
  auto admin = [] { return std::map<std::string, std::string>{{"Authorization", "Bearer " + token_for("admin")}}; };
  auto reader = [] {
    return std::map<std::string, std::string>{{"Authorization", "Bearer " + token_for("read-only")}};
  };
  {
    TestHost host(dir.path() / "a");
    host.load("testkit").load("auth-jwt", R"({"algorithm":"HS256","key_file":")" + key + "\"}");
    host.start();
    auto r = host.get("/test/quick", admin());
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.body, R"({"error":"this route is not in the auth policy","success":false})");
    EXPECT_EQ(host.get("/test/quick").status, 401);
  }
  TestHost host(dir.path() / "b");
  host.load("testkit").load("auth-jwt",
                            R"({"algorithm":"HS256","key_file":")" + key + R"(","policy":{"GET /test/quick":"read"}})");
  host.start();
  EXPECT_EQ(host.get("/test/quick", reader()).status, 200);
  EXPECT_EQ(host.get("/test/echo/a/b", admin()).status, 403);
}
