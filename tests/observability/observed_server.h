// dicomd for the observability tests: any mix of core and test plugins
// (symlinked side by side into one plugin folder), JSON logs.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "server_process.h"

namespace dicomd::test {

class ObservedServer {
 public:
  // `plugins_json`: the config's "plugins" array.
  explicit ObservedServer(const std::string& plugins_json) {
    namespace fs = std::filesystem;
    fs::create_directories(dir_.path() / "plugins");
    for (const fs::path& from : {fs::path(core_plugin_dir()), fs::path(test_plugin_dir())})
      for (const auto& entry : fs::directory_iterator(from))
        if (entry.path().extension() == ".so" && !fs::exists(dir_ / "plugins" / entry.path().filename()))
          fs::create_symlink(entry.path(), dir_ / "plugins" / entry.path().filename());
    write_file(dir_ / "config.json", R"({"listen":"127.0.0.1:0","log_format":"json","plugin_dir":")" +
                                         (dir_.path() / "plugins").string() + R"(","plugins":)" + plugins_json + "}");
    process_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--config", (dir_ / "config.json").string(), "--data", (dir_ / "data").string()});
  }
  uint16_t port() const { return process_->port(); }
  ServerProcess& process() { return *process_; }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  std::unique_ptr<ServerProcess> process_;
};

}  // namespace dicomd::test
