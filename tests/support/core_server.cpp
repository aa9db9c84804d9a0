#include "core_server.h"

#include <algorithm>
#include <signal.h>

#include <cstdio>
#include <cstdlib>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <gtest/gtest.h>

namespace dicomd::test {

CoreServer::CoreServer(std::vector<std::string> extra_args, const std::string& config_json,
                       std::vector<std::string> wrapper)
    : wrapper_(std::move(wrapper)) {
  args_ = {"--data", data_dir().string(), "--plugin-dir", core_plugin_dir()};
  const char* storage = std::getenv("DICOMD_TEST_STORAGE");
  std::string config = config_json;
  if (storage && std::string(storage) == "s3") {
    s3_ = std::make_unique<S3Server>();
    config = with_s3_storage(config_json, *s3_);
  }
  if (!config.empty()) {
    write_file(dir_ / "config.json", config);
    args_.insert(args_.end(), {"--config", (dir_ / "config.json").string()});
  }
  args_.insert(args_.end(), extra_args.begin(), extra_args.end());
  server_ = std::make_unique<ServerProcess>(args_, wrapper_);
}

void CoreServer::restart() {
  if (server_->running()) server_->stop(SIGKILL);
  server_ = std::make_unique<ServerProcess>(args_, wrapper_);
}

CoreServer::~CoreServer() {
  if (!server_ || !server_->running()) return;
  int code = server_->stop(SIGTERM);
  EXPECT_EQ(code, 0) << server_->log();
}

std::vector<std::string> CoreServer::stored_files() const {
  return s3_ ? s3_->object_keys() : files_under(studies_dir());
}

std::string CoreServer::stored_bytes(const std::string& study, const std::string& file) const {
  return s3_ ? s3_->object_bytes(study + "/" + file) : read_file(studies_dir() / study / file);
}

std::vector<std::string> CoreServer::leftovers() const {
  if (!s3_) return files_under(studies_dir() / ".tmp");
  std::vector<std::string> out;
  for (auto& key : s3_->object_keys())
    if (key.starts_with(".")) out.push_back(key);
  return out;
}

void CoreServer::store_by_hand(const std::string& study, const std::string& file, const std::string& bytes) {
  if (s3_) return s3_->put_object(study + "/" + file, bytes);
  std::filesystem::create_directories(studies_dir() / study);
  write_file(studies_dir() / study / file, bytes);
}

std::string with_s3_storage(const std::string& config_json, const S3Server& s3) {
  rapidjson::Document d;
  d.Parse(config_json.empty() ? "{}" : config_json.c_str());
  if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("bad test config: " + config_json);
  std::string braced = "{";
  braced += s3.config_keys();
  braced += "}";
  auto& a = d.GetAllocator();
  rapidjson::Document keys;
  keys.Parse(braced.c_str());
  if (!d.HasMember("listen")) d.AddMember("listen", "127.0.0.1:0", a);  // as the defaults would
  if (!d.HasMember("plugins")) {
    rapidjson::Value plugins(rapidjson::kArrayType);
    for (const char* name :
         {"storage-fs", "files", "validator-gdcm", "metadata-gdcm", "render-png", "index-sqlite", "search", "jobs"})
      plugins.PushBack(rapidjson::Value(rapidjson::kObjectType).AddMember("name", rapidjson::StringRef(name), a), a);
    d.AddMember("plugins", plugins, a);
  }
  for (auto& plugin : d["plugins"].GetArray()) {
    if (!plugin.IsObject() || plugin["name"] != "storage-fs") continue;
    plugin["name"] = "storage-s3";
    if (!plugin.HasMember("config")) plugin.AddMember("config", rapidjson::Value(rapidjson::kObjectType), a);
    // `<`, not a range-for: its `!=` on RapidJSON's iterators is ambiguous in C++20 (clang warns).
    for (auto k = keys.MemberBegin(); k < keys.MemberEnd(); ++k)
      plugin["config"].AddMember(rapidjson::Value(k->name, a), rapidjson::Value(k->value, a), a);
  }
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> writer(out);
  d.Accept(writer);
  return out.GetString();
}

HttpReply CoreServer::upload(const std::string& study, const std::vector<FormFile>& files) {
  auto [type, body] = multipart_body({{"study", study}}, files);
  return request(port(), "POST", "/upload", body, {{"Content-Type", type}});
}

HttpReply CoreServer::upload_paths(const std::string& study, const std::vector<std::filesystem::path>& paths) {
  std::vector<FormFile> files;
  for (const auto& p : paths) files.push_back({"files", p.filename().string(), read_file(p)});
  return upload(study, files);
}

rapidjson::Document parse_json(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  if (d.HasParseError()) d.SetNull();
  return d;
}

std::vector<std::string> files_under(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (!e.is_directory()) out.push_back(std::filesystem::relative(e.path(), dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace dicomd::test
