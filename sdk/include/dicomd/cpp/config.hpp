// dicomd plugin SDK, C++ layer — a plugin's "config" object, read with
// RapidJSON (header-only; Debian rapidjson-dev). Every key must be asked for:
// a key nobody asked for is a typo, and init fails naming it.
//
//   dicomd::PluginConfig config(config_json);
//   config.get("root", settings.root);
//   config.get_uint("header_cache_mb", mb, 0, 65536);
//   config.finish();  // throws: config: unknown key "heder_cache_mb" (known: header_cache_mb, root)
#pragma once

#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

namespace dicomd {

// A config problem; its message names the key.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class PluginConfig {
 public:
  explicit PluginConfig(std::string_view json) {
    doc_.Parse(json.data(), json.size());
    if (doc_.HasParseError())
      throw ConfigError(std::string("config is not valid JSON: ") + rapidjson::GetParseError_En(doc_.GetParseError()));
    if (!doc_.IsObject()) throw ConfigError("config must be a JSON object");
  }

  // Each getter leaves `out` alone and returns false when the key is absent.
  bool get(const char* key, std::string& out) {
    const rapidjson::Value* v = find(key);
    if (!v) return false;
    if (!v->IsString()) throw ConfigError(std::string("config: \"") + key + "\" must be a string");
    out.assign(v->GetString(), v->GetStringLength());
    return true;
  }
  bool get(const char* key, bool& out) {
    const rapidjson::Value* v = find(key);
    if (!v) return false;
    if (!v->IsBool()) throw ConfigError(std::string("config: \"") + key + "\" must be true or false");
    out = v->GetBool();
    return true;
  }
  bool get_uint(const char* key, uint64_t& out, uint64_t min, uint64_t max) {
    const rapidjson::Value* v = find(key);
    if (!v) return false;
    if (!v->IsUint64() || v->GetUint64() < min || v->GetUint64() > max)
      throw ConfigError(std::string("config: \"") + key + "\" must be a whole number from " + std::to_string(min) +
                        " to " + std::to_string(max));
    out = v->GetUint64();
    return true;
  }
  // The raw value, for shapes the getters do not cover (marks it known).
  const rapidjson::Value* value(const char* key) { return find(key); }

  // Throws ConfigError naming the first key no getter asked for.
  void finish() const {
    for (const auto& member : doc_.GetObject()) {
      std::string key(member.name.GetString(), member.name.GetStringLength());
      if (known_.count(key)) continue;
      std::string list;
      for (const auto& k : known_) list += (list.empty() ? "" : ", ") + k;
      throw ConfigError("config: unknown key \"" + key + "\"" + (list.empty() ? "" : " (known: " + list + ")"));
    }
  }

 private:
  const rapidjson::Value* find(const char* key) {
    known_.insert(key);
    // HasMember, not FindMember: comparing RapidJSON's member iterators is
    // ambiguous in C++20 (clang warns on it).
    return doc_.HasMember(key) ? &doc_[key] : nullptr;
  }

  rapidjson::Document doc_;
  std::set<std::string> known_;
};

}  // namespace dicomd
