// An in-process dicomd host for plugin tests: the real plugin manager,
// service registry, event bus, dispatcher (routing, filters, after-answer
// hooks) and isolation workers, without sockets. A test loads real plugin
// libraries and plugins linked into the test (dicomd::testing::descriptor<P>()),
// then sends requests as values:
//
//   TestHost host(dir.path());
//   host.load("storage-fs").load("files").load("validator-gdcm");
//   host.start();
//   auto reply = host.get("/files");
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <dicomd/cpp/plugin.hpp>

#include "http_client.h"
#include "temp_dir.h"

namespace dicomd::test {

class TestHost {
 public:
  explicit TestHost(const std::filesystem::path& data_dir);
  ~TestHost();
  TestHost(const TestHost&) = delete;
  TestHost& operator=(const TestHost&) = delete;

  // A plugin library of the build (core or test plugin folder), by name.
  TestHost& load(const std::string& name, const std::string& config_json = "{}");
  // A plugin compiled into the test binary.
  TestHost& add(const dicomd_plugin_descriptor* descriptor, const std::string& config_json = "{}");
  // Resolves services, mounts routes, runs init and start; throws like the
  // server would (PluginError, ConfigError).
  void start();

  // One request through filters, routing and the handler. Quick routes run
  // first as on an I/O thread; answered_inline tells whether they answered there.
  struct Reply : HttpReply {
    bool answered_inline = false;
  };
  Reply request(const std::string& method, const std::string& target, const std::string& body = "",
                const std::map<std::string, std::string>& headers = {});
  Reply get(const std::string& target, const std::map<std::string, std::string>& headers = {}) {
    return request("GET", target, "", headers);
  }
  Reply del(const std::string& target) { return request("DELETE", target); }
  Reply upload(const std::string& study, const std::vector<FormFile>& files);
  Reply upload_paths(const std::string& study, const std::vector<std::filesystem::path>& paths);

  // Waits until every event published so far was handled.
  bool flush_events(int timeout_ms = 5000);
  // "METHOD pattern owner" of every mounted route.
  std::vector<std::string> routes() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The core plugins (storage-fs, files, validator-gdcm, metadata-gdcm,
// render-png) in a TestHost over a fresh temporary folder.
class CoreHost : private TempDir, public TestHost {
 public:
  CoreHost();
  std::filesystem::path studies_dir() const { return TempDir::path() / "data" / "studies"; }
};

}  // namespace dicomd::test

namespace dicomd::testing {

// The descriptor of a plugin class compiled into the test.
template <class P>
const dicomd_plugin_descriptor* descriptor() {
  static const dicomd_plugin_descriptor d = dicomd::detail::make_descriptor<P>();
  return &d;
}

}  // namespace dicomd::testing
