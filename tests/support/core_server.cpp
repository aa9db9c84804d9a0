#include "core_server.h"

#include <algorithm>
#include <signal.h>

#include <cstdio>

#include <gtest/gtest.h>

namespace dicomd::test {

CoreServer::CoreServer(std::vector<std::string> extra_args, const std::string& config_json,
                       std::vector<std::string> wrapper)
    : wrapper_(std::move(wrapper)) {
  args_ = {"--data", data_dir().string(), "--plugin-dir", core_plugin_dir()};
  if (!config_json.empty()) {
    write_file(dir_ / "config.json", config_json);
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
