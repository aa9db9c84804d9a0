// The dicomd server: configuration, plugins, routes and the HTTP server.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <dicomd/http.h>

#include "config.h"
#include "data_folder_lock.h"
#include "host_api.h"
#include "plugins/plugin_manager.h"
#include "events/event_bus.h"
#include "ops/metrics.h"
#include "server/dispatcher.h"
#include "server/http_server.h"

namespace dicomd {

class App {
 public:
  App(Config config, std::string self_exe);
  ~App();

  // Loads and starts everything; throws ConfigError, PluginError or
  // std::runtime_error with a one-line reason.
  void start();
  // Loads and starts the plugins, without the HTTP server (commands such
  // as reindex).
  void start_plugins();
  // dicomd --check-config: loads the plugins, binds their services, mounts
  // their routes and runs each plugin's check_config hook, without init or
  // the data folder; prints what would be served to `out`. False when
  // something would stop the server (printed too).
  bool check(std::FILE* out);
  // Waits until every event published so far was handled; false on timeout.
  bool flush_events(std::chrono::milliseconds timeout) { return events_.flush(timeout); }
  // The vtable some started plugin provides for service@major, or null.
  const void* find_service(const std::string& service, uint32_t major) const;
  uint16_t port() const { return server_->port(); }
  const Dispatcher& dispatcher() const { return dispatcher_; }
  // Graceful stop: refuse new requests, finish in-flight ones (logging
  // how many), stop plugins.
  void shutdown();
  // The host's registry of counters and gauges (GET /metrics).
  metrics::Registry& metrics() { return metrics_; }

 private:
  void mount_routes();
  static void publish_failure(void* self, std::string_view source, int32_t status, std::string_view what,
                              std::string_view detail);

  Config config_;
  std::string self_exe_;
  HostContext context_;
  metrics::Registry metrics_;  // outlives the plugins, which keep its families
  PluginManager plugins_;
  EventBus events_;
  Dispatcher dispatcher_;
  std::string openapi_;  // built once the routes are mounted
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<DataFolderLock> lock_;  // held from start to the end of the process
};

// Default plugin folder: ../lib/dicomd/plugins next to the executable, which
// holds both in the build tree and under an install prefix.
std::string plugin_dir_default(const std::string& self_exe);

}  // namespace dicomd
