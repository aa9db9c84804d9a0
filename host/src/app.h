// The dicomd server: configuration, plugins, routes and the HTTP server.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <dicomd/http.h>

#include "config.h"
#include "host_api.h"
#include "plugins/plugin_manager.h"
#include "server/http_server.h"
#include "server/router.h"

namespace dicomd {

struct RouteTarget {
  LoadedPlugin* plugin = nullptr;  // a plugin's route...
  dicomd_handler_fn handler = nullptr;
  std::function<http::Response()> builtin;  // ...or one of the host's own
  bool quick = false;                       // may run on the I/O thread (DICOMD_ROUTE_QUICK)
};

class App {
 public:
  App(Config config, std::string self_exe);
  ~App();

  // Loads and starts everything; throws ConfigError, PluginError or
  // std::runtime_error with a one-line reason.
  void start();
  uint16_t port() const { return server_->port(); }
  // Graceful stop: refuse new requests, finish in-flight ones, stop plugins.
  void shutdown();

 private:
  void mount_routes();
  bool handle(const http::Request& request, const std::string& request_id, const Reply& reply, bool may_block);
  // Empty when a quick handler would block.
  std::optional<http::Response> call_plugin(const RouteTarget& target, const http::Request& request,
                                            const std::vector<std::pair<std::string, std::string>>& raw_params,
                                            const std::string& request_id, bool may_block);

  Config config_;
  std::string self_exe_;
  HostContext context_;
  PluginManager plugins_;
  Router<RouteTarget> router_;
  std::unique_ptr<HttpServer> server_;
};

// Default plugin folder: ../lib/dicomd/plugins next to the executable, which
// holds both in the build tree and under an install prefix.
std::string plugin_dir_default(const std::string& self_exe);

}  // namespace dicomd
