#include "config.h"

#include <fstream>
#include <set>
#include <sstream>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace dicomd {
namespace {

using rapidjson::Value;

void check_keys(const Value& object, const std::set<std::string>& allowed, const std::string& where) {
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    std::string key = it->name.GetString();
    if (!allowed.count(key)) throw ConfigError(where + ": unknown key \"" + key + "\"");
  }
}

std::string get_string(const Value& v, const std::string& what) {
  if (!v.IsString()) throw ConfigError(what + " must be a string");
  return v.GetString();
}

uint64_t get_uint(const Value& v, const std::string& what, uint64_t min, uint64_t max) {
  if (!v.IsUint64() || v.GetUint64() < min || v.GetUint64() > max)
    throw ConfigError(what + " must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  return v.GetUint64();
}

std::map<std::string, std::string> get_bind(const Value& v, const std::string& what) {
  if (!v.IsObject()) throw ConfigError(what + " must be an object {\"service\": \"plugin\"}");
  std::map<std::string, std::string> out;
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it)
    out[it->name.GetString()] = get_string(it->value, what + "." + it->name.GetString());
  return out;
}

PluginEntry parse_plugin(const Value& v, size_t index) {
  std::string where = "plugins[" + std::to_string(index) + "]";
  if (!v.IsObject()) throw ConfigError(where + " must be an object");
  check_keys(v, {"name", "enabled", "config", "bind"}, where);
  PluginEntry entry;
  if (!v.HasMember("name")) throw ConfigError(where + ": \"name\" is missing");
  entry.name = get_string(v["name"], where + ".name");
  if (entry.name.empty() || entry.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos)
    throw ConfigError(where + ".name must be lower-case letters, digits, '-' or '_'");
  if (v.HasMember("enabled")) {
    if (!v["enabled"].IsBool()) throw ConfigError(where + ".enabled must be true or false");
    entry.enabled = v["enabled"].GetBool();
  }
  if (v.HasMember("config")) {
    if (!v["config"].IsObject()) throw ConfigError(where + ".config must be an object");
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    v["config"].Accept(writer);
    entry.config_json = buffer.GetString();
  }
  if (v.HasMember("bind")) entry.bind = get_bind(v["bind"], where + ".bind");
  return entry;
}

void parse_isolation(const Value& v, IsolationConfig& out) {
  if (!v.IsObject()) throw ConfigError("isolation must be an object");
  check_keys(v, {"workers", "timeout_ms", "memory_mb", "queue_timeout_ms", "max_queued"}, "isolation");
  if (v.HasMember("workers")) out.workers = get_uint(v["workers"], "isolation.workers", 1, 64);
  if (v.HasMember("timeout_ms")) out.timeout_ms = get_uint(v["timeout_ms"], "isolation.timeout_ms", 100, 600000);
  if (v.HasMember("memory_mb")) out.memory_mb = get_uint(v["memory_mb"], "isolation.memory_mb", 64, 1 << 20);
  if (v.HasMember("queue_timeout_ms"))
    out.queue_timeout_ms = get_uint(v["queue_timeout_ms"], "isolation.queue_timeout_ms", 0, 600000);
  if (v.HasMember("max_queued")) out.max_queued = get_uint(v["max_queued"], "isolation.max_queued", 0, 100000);
}

}  // namespace

Config default_config() {
  Config c;
  for (const char* name : {"storage-fs", "files", "validator-gdcm", "metadata-gdcm", "render-png", "index-sqlite",
                           "search", "jobs", "dicomweb"}) {
    PluginEntry e;
    e.name = name;
    c.plugins.push_back(e);
  }
  return c;
}

void parse_listen(std::string_view text, std::string& host, uint16_t& port) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) throw ConfigError("listen must be HOST:PORT, got \"" + std::string(text) + "\"");
  std::string_view h = text.substr(0, colon);
  std::string_view p = text.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  unsigned long value = 0;
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string_view::npos ||
      (value = std::stoul(std::string(p))) > 65535)
    throw ConfigError("listen: bad port \"" + std::string(p) + "\"");
  host = h.empty() ? "127.0.0.1" : std::string(h);
  port = static_cast<uint16_t>(value);
}

Config parse_config(std::string_view json_text) {
  rapidjson::Document doc;
  doc.Parse(json_text.data(), json_text.size());
  if (doc.HasParseError())
    throw ConfigError(std::string("invalid JSON at offset ") + std::to_string(doc.GetErrorOffset()) + ": " +
                      rapidjson::GetParseError_En(doc.GetParseError()));
  if (!doc.IsObject()) throw ConfigError("the configuration must be a JSON object");
  check_keys(doc,
             {"listen",
              "threads",
              "reactor_threads",
              "max_body_mb",
              "keepalive_timeout_ms",
              "header_timeout_ms",
              "drain_timeout_ms",
              "max_concurrent_uploads",
              "max_body_memory_mb",
              "max_body_memory_per_client_mb",
              "max_connections",
              "max_connections_per_client",
              "max_pipelined_kb",
              "write_timeout_ms",
              "min_send_rate_kbps",
              "min_body_rate_kbps",
              "data",
              "shared_data_folder",
              "plugin_dir",
              "log_level",
              "log_format",
              "log_file",
              "plugins",
              "bind",
              "isolation"},
             "configuration");
  Config c;
  if (doc.HasMember("listen")) parse_listen(get_string(doc["listen"], "listen"), c.host, c.port);
  if (doc.HasMember("threads")) c.threads = get_uint(doc["threads"], "threads", 1, 256);
  if (doc.HasMember("reactor_threads")) c.reactor_threads = get_uint(doc["reactor_threads"], "reactor_threads", 0, 64);
  if (doc.HasMember("max_body_mb")) c.max_body_mb = get_uint(doc["max_body_mb"], "max_body_mb", 1, 1 << 20);
  if (doc.HasMember("keepalive_timeout_ms"))
    c.keepalive_timeout_ms = get_uint(doc["keepalive_timeout_ms"], "keepalive_timeout_ms", 100, 3600000);
  if (doc.HasMember("header_timeout_ms"))
    c.header_timeout_ms = get_uint(doc["header_timeout_ms"], "header_timeout_ms", 100, 3600000);
  if (doc.HasMember("drain_timeout_ms"))
    c.drain_timeout_ms = get_uint(doc["drain_timeout_ms"], "drain_timeout_ms", 0, 3600000);
  if (doc.HasMember("max_concurrent_uploads"))
    c.max_concurrent_uploads = get_uint(doc["max_concurrent_uploads"], "max_concurrent_uploads", 1, 100000);
  if (doc.HasMember("max_body_memory_mb"))
    c.max_body_memory_mb = get_uint(doc["max_body_memory_mb"], "max_body_memory_mb", 1, 1 << 24);
  if (doc.HasMember("max_body_memory_per_client_mb"))
    c.max_body_memory_per_client_mb =
        get_uint(doc["max_body_memory_per_client_mb"], "max_body_memory_per_client_mb", 1, 1 << 24);
  if (doc.HasMember("max_connections"))
    c.max_connections = get_uint(doc["max_connections"], "max_connections", 1, 1000000);
  if (doc.HasMember("max_connections_per_client"))
    c.max_connections_per_client =
        get_uint(doc["max_connections_per_client"], "max_connections_per_client", 1, 1000000);
  if (doc.HasMember("max_pipelined_kb"))
    c.max_pipelined_kb = get_uint(doc["max_pipelined_kb"], "max_pipelined_kb", 1, 1 << 20);
  if (doc.HasMember("write_timeout_ms"))
    c.write_timeout_ms = get_uint(doc["write_timeout_ms"], "write_timeout_ms", 100, 3600000);
  if (doc.HasMember("min_send_rate_kbps"))
    c.min_send_rate_kbps = get_uint(doc["min_send_rate_kbps"], "min_send_rate_kbps", 1, 1 << 30);
  if (doc.HasMember("min_body_rate_kbps"))
    c.min_body_rate_kbps = get_uint(doc["min_body_rate_kbps"], "min_body_rate_kbps", 1, 1 << 30);
  if (doc.HasMember("data")) c.data_dir = get_string(doc["data"], "data");
  if (doc.HasMember("shared_data_folder")) {
    if (!doc["shared_data_folder"].IsBool()) throw ConfigError("shared_data_folder must be true or false");
    c.shared_data_folder = doc["shared_data_folder"].GetBool();
  }
  if (doc.HasMember("plugin_dir")) c.plugin_dir = get_string(doc["plugin_dir"], "plugin_dir");
  if (doc.HasMember("log_level")) c.log_level = get_string(doc["log_level"], "log_level");
  if (doc.HasMember("log_format")) c.log_format = get_string(doc["log_format"], "log_format");
  if (doc.HasMember("log_file")) c.log_file = get_string(doc["log_file"], "log_file");
  if (doc.HasMember("bind")) c.bind = get_bind(doc["bind"], "bind");
  if (doc.HasMember("isolation")) parse_isolation(doc["isolation"], c.isolation);
  if (doc.HasMember("plugins")) {
    const Value& list = doc["plugins"];
    if (!list.IsArray()) throw ConfigError("plugins must be an array");
    std::set<std::string> seen;
    for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
      PluginEntry e = parse_plugin(list[i], i);
      if (!seen.insert(e.name).second) throw ConfigError("plugin \"" + e.name + "\" is listed twice");
      c.plugins.push_back(std::move(e));
    }
  } else {
    c.plugins = default_config().plugins;
  }
  return c;
}

Config load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return parse_config(ss.str());
  } catch (const ConfigError& e) {
    throw ConfigError(path + ": " + e.what());
  }
}

}  // namespace dicomd
