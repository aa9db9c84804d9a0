// auth-jwt: who may do what (API.md Part 3, "Auth"). A request filter that
// finds the caller's JWT (Authorization: Bearer, the dicomd_token cookie, or
// the query string when configured), verifies it (jwt_verify.h), attaches
// its subject and role to the request, and lets through only what the
// policy (policy.h) gives that role; POST /login sets the cookie for the web
// page and <img>, POST /logout clears it. Off unless configured: the plugin
// is loaded only when the config names it.
#include <dicomd/cpp/config.hpp>
#include <dicomd/cpp/json.hpp>
#include <dicomd/cpp/plugin.hpp>
#include <rapidjson/document.h>

#include <array>
#include <chrono>
#include <ctime>
#include <map>
#include <mutex>
#include <unordered_map>

#include "jwt_verify.h"
#include "policy.h"
#include "token_cache.h"

namespace {

using dicomd::auth::Access;
using dicomd::auth::KeySet;
using dicomd::auth::TokenError;
using dicomd::auth::VerifiedToken;

constexpr std::string_view kCookie = "dicomd_token";
constexpr size_t kMaxLoginBody = 16 << 10;
constexpr std::string_view kChallenge = "Bearer realm=\"dicomd\", error=\"invalid_token\"";
// Requests whose outcome the audit log keeps (API.md: uploads, deletes,
// logins; logins are logged by their route).
bool is_audited(std::string_view method, std::string_view route) {
  return (method == "POST" && route == "/upload") ||
         (method == "DELETE" && (route == "/files/:study/:file" || route == "/files/:study"));
}

struct Settings {
  std::shared_ptr<const KeySet> keys;
  dicomd::auth::VerifyOptions verify;
  std::map<std::string, Access> policy;
  bool query_token = false;    // ?access_token= accepted (it ends up in proxies' logs)
  bool cookie_secure = false;  // the cookie only over HTTPS (dicomd behind a TLS proxy)
};

// {"algorithm":"HS256|RS256|ES256","key_file":F,"issuer":…,"audience":…,
//  "role_claim":"role","leeway_s":30,"query_token":false,"cookie_secure":false,
//  "policy":{"GET /hello":"read",…}}
Settings parse_settings(std::string_view json) {
  dicomd::PluginConfig c(json);
  Settings s;
  std::string algorithm, key_file;
  if (!c.get("algorithm", algorithm)) throw dicomd::ConfigError("auth-jwt needs \"algorithm\" (HS256, RS256 or ES256)");
  auto alg = dicomd::auth::algorithm_named(algorithm);
  if (!alg) throw dicomd::ConfigError("auth-jwt: \"algorithm\" must be HS256, RS256 or ES256");
  if (!c.get("key_file", key_file)) throw dicomd::ConfigError("auth-jwt needs \"key_file\"");
  c.get("issuer", s.verify.issuer);
  c.get("audience", s.verify.audience);
  c.get("role_claim", s.verify.role_claim);
  if (s.verify.role_claim.empty()) throw dicomd::ConfigError("auth-jwt: \"role_claim\" must not be empty");
  uint64_t leeway = 30;
  c.get_uint("leeway_s", leeway, 0, 3600);
  s.verify.leeway_s = static_cast<int64_t>(leeway);
  c.get("query_token", s.query_token);
  c.get("cookie_secure", s.cookie_secure);
  if (const rapidjson::Value* policy = c.value("policy")) {
    if (!policy->IsObject()) throw dicomd::ConfigError("auth-jwt: \"policy\" must map \"METHOD /route\" to an access");
    for (const auto& entry : policy->GetObject()) {
      std::string route(entry.name.GetString(), entry.name.GetStringLength());
      auto access = entry.value.IsString() ? dicomd::auth::access_named(entry.value.GetString()) : std::nullopt;
      if (!access || route.find(' ') == std::string::npos)
        throw dicomd::ConfigError("auth-jwt: policy \"" + route +
                                  "\" must be \"METHOD /route\": open, read, write or admin");
      s.policy[route] = *access;
    }
  }
  c.finish();
  try {
    s.keys = std::make_shared<KeySet>(KeySet::from_file(*alg, key_file));
  } catch (const dicomd::auth::KeyError& e) {
    throw dicomd::ConfigError("auth-jwt: key_file " + key_file + ": " + e.what());
  }
  return s;
}

// Whole seconds are all a token's times need: the coarse clock, which costs
// no time-stamp counter read, is exact enough (it lags by a tick at most).
int64_t now_s() {
  timespec t{};
  clock_gettime(CLOCK_REALTIME_COARSE, &t);
  return t.tv_sec;
}

// The value of cookie `name` in a Cookie header ("a=1; dicomd_token=…").
std::string_view cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t end = header.find(';');
    std::string_view pair = header.substr(0, end);
    header = end == std::string_view::npos ? std::string_view() : header.substr(end + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=')
      return pair.substr(name.size() + 1);
  }
  return {};
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  return true;
}

class AuthJwtPlugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "auth-jwt";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr const char* kDescription = "JWT roles (read-only, standard, admin) on every route, default deny";
  static constexpr std::array<dicomd_service_ref, 0> kProvides{};
  static constexpr std::array<dicomd_service_ref, 0> kRequires{};
  static constexpr auto routes() {
    return std::array{
        dicomd_route{"POST", "/login", dicomd::route<&AuthJwtPlugin::login>},
        dicomd_route{"POST", "/logout", dicomd::route<&AuthJwtPlugin::logout>},
    };
  }
  static constexpr auto route_media_types() { return std::array<const char*, 2>{"application/json", nullptr}; }

  static constexpr auto route_docs() {
    return std::array<const char*, 2>{
        R"json({"summary": "Exchange a token for the HttpOnly dicomd_token cookie",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object",
              "properties": {"token": {"type": "string"}}, "required": ["token"]}}}},
            "responses": {"200": {"description": "{\"role\":…,\"subject\":…,\"success\":true} and the cookie",
                                  "content": {"application/json": {"schema": {"type": "object"}}}},
                          "400": {"description": "no token in the body"},
                          "401": {"description": "the token is not valid"},
                          "413": {"description": "a body over 16 KiB"}}})json",
        R"json({"summary": "Clear the dicomd_token cookie",
            "responses": {"200": {"description": "{\"success\":true}",
                                  "content": {"application/json": {"schema": {"type": "object"}}}}}})json",
    };
  }

  AuthJwtPlugin(dicomd::Host host, std::string_view config) : AuthJwtPlugin(host, parse_settings(config)) {}
  // Everything init checks, the key file's permissions included.
  static void check_config(std::string_view config) { parse_settings(config); }

  // Every request: open routes pass; anything else needs a valid token, and
  // a route the policy names for the token's role. Without a valid token
  // even an unknown path is 401, so nothing about the routes leaks.
  dicomd::FilterResult filter(const dicomd::Request& req, dicomd::Response& res) {
    const bool routed = !req.route().empty();
    std::optional<Access> named = routed ? policy_.access(req.method(), req.route()) : std::nullopt;
    const bool in_policy = named.has_value();
    const Access access = named.value_or(Access::kAdmin);
    if (in_policy && access == Access::kOpen) return dicomd::FilterResult::kContinue;
    std::string_view token = token_of(req);
    if (token.empty()) return unauthorized(res, "a token is needed (Authorization: Bearer, or POST /login)");
    VerifiedToken who;
    try {
      who = verified(token);
    } catch (const TokenError& e) {
      return unauthorized(res, e.what());
    }
    res.set_identity(who.subject, who.role);
    if (audited(req)) remember_role(req.request_id(), who.role);  // refused here or not
    if (!routed) return dicomd::FilterResult::kContinue;          // 404 or 405, as without auth
    if (!in_policy) return forbidden(res, "this route is not in the auth policy");
    if (!dicomd::auth::allowed(dicomd::auth::role_named(who.role), access))
      return forbidden(res, "the role \"" + who.role + "\" may not do this");
    return dicomd::FilterResult::kContinue;
  }

  // The audit log: every upload and delete with who, as what, and how it
  // ended (logins are logged by their route). Never the token.
  void after_answer(const dicomd::RequestSummary& s) {
    if (!is_audited(s.method, s.route)) return;
    host().info("audit: " + std::string(s.method) + " " + std::string(s.route) + " by \"" + std::string(s.subject) +
                "\" (" + take_role(s.request_id) + ") -> " + std::to_string(s.status));
  }

  // POST /login {"token":"…"}: the cookie for the web page and <img>.
  void login(const dicomd::Request& req, dicomd::Response& res) {
    // An open route: nobody unauthenticated gets to have a large body parsed.
    if (req.body().size() > kMaxLoginBody) throw dicomd::HttpError(413, "a login body is at most 16 KiB");
    rapidjson::Document body;
    body.Parse(req.body().data(), req.body().size());
    if (body.HasParseError() || !body.IsObject() || !body.HasMember("token") || !body["token"].IsString())
      throw dicomd::HttpError(400, "the body must be {\"token\":\"<JWT>\"}");
    std::string_view token(body["token"].GetString(), body["token"].GetStringLength());
    VerifiedToken who;
    try {
      who = verified(token);
    } catch (const TokenError& e) {
      host().info("audit: POST /login refused: " + std::string(e.what()));
      unauthorized(res, e.what());
      return;
    }
    int64_t max_age = std::max<int64_t>(0, who.valid_until - now_s());
    std::string cookie(kCookie);
    cookie += "=";
    cookie += token;
    cookie += "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age);
    if (settings_.cookie_secure) cookie += "; Secure";
    res.header("Set-Cookie", cookie);
    dicomd::JsonWriter w;
    w.start_object().key("role").string(who.role).key("subject").string(who.subject).key("success").boolean(true);
    w.end_object();
    res.json(200, w.text());
    host().info("audit: POST /login by \"" + who.subject + "\" (" + who.role + ") -> 200");
  }

  // POST /logout: the cookie is cleared.
  void logout(const dicomd::Request&, dicomd::Response& res) {
    std::string cookie(kCookie);
    cookie += "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
    if (settings_.cookie_secure) cookie += "; Secure";
    res.header("Set-Cookie", cookie);
    res.json(200, "{\"success\":true}");
  }

 private:
  AuthJwtPlugin(dicomd::Host host, Settings settings)
      : Plugin(host), settings_(std::move(settings)), policy_(settings_.policy) {}

  std::string_view token_of(const dicomd::Request& req) const {
    if (auto authorization = req.header("authorization")) {
      // A client that sends credentials means them: another scheme is no token.
      if (!starts_with_ignoring_case(*authorization, "bearer ")) return {};
      std::string_view token = authorization->substr(7);
      while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
      return token;
    }
    if (auto cookies = req.header("cookie"))
      if (auto token = cookie_value(*cookies, kCookie); !token.empty()) return token;
    if (settings_.query_token)
      if (auto token = req.query("access_token")) return *token;
    return {};
  }

  VerifiedToken verified(std::string_view token) {
    int64_t now = now_s();
    if (auto hit = cache_.find(token, now)) return std::move(*hit);
    auto who = std::make_shared<const VerifiedToken>(
        dicomd::auth::verify_token(token, *settings_.keys, settings_.verify, now));
    cache_.insert(token, who, now);
    return *who;
  }

  static dicomd::FilterResult unauthorized(dicomd::Response& res, std::string_view why) {
    res.header("WWW-Authenticate", kChallenge);
    res.error(401, why);
    return dicomd::FilterResult::kAnswered;
  }
  static dicomd::FilterResult forbidden(dicomd::Response& res, std::string_view why) {
    res.error(403, why);
    return dicomd::FilterResult::kAnswered;
  }

  static bool audited(const dicomd::Request& req) { return is_audited(req.method(), req.route()); }

  // The role of an audited request, from its filter to its after-answer
  // hook (the summary carries the subject only). Bounded: requests whose
  // connection died never reach the hook.
  void remember_role(std::string_view request_id, std::string_view role) {
    std::lock_guard lock(roles_mutex_);
    if (roles_.size() >= 4096) roles_.clear();
    roles_[std::string(request_id)] = role;
  }
  std::string take_role(std::string_view request_id) {
    std::lock_guard lock(roles_mutex_);
    auto it = roles_.find(std::string(request_id));
    if (it == roles_.end()) return "no role";
    std::string role = std::move(it->second);
    roles_.erase(it);
    return role;
  }

  Settings settings_;
  dicomd::auth::Policy policy_;
  dicomd::auth::TokenCache cache_;
  std::mutex roles_mutex_;
  std::unordered_map<std::string, std::string> roles_;  // request id -> role; guarded by roles_mutex_
};

}  // namespace

DICOMD_PLUGIN(AuthJwtPlugin)
