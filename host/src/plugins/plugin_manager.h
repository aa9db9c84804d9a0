// Owns the loaded plugins and drives their life cycle:
// load -> resolve services -> init (dependency order) -> workers -> start
// -> ... -> stop (reverse) -> destroy (reverse).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config.h"
#include "host_api.h"
#include "plugins/loaded_plugin.h"

namespace dicomd {

class PluginManager {
 public:
  PluginManager() = default;
  ~PluginManager();
  PluginManager(const PluginManager&) = delete;
  PluginManager& operator=(const PluginManager&) = delete;

  // Opens every enabled plugin of the config (disabled ones are never opened).
  void load(const Config& config, const std::string& plugin_dir);
  // Binds services and computes the init order.
  void resolve(const std::map<std::string, std::string>& global_bind);
  void init_all(HostContext& context);
  // Starts isolation workers for plugins that have an isolated_job hook.
  void start_workers(const std::string& self_exe, const IsolationConfig& config);
  void start_all();
  void stop_all();

  // In init order.
  const std::vector<LoadedPlugin*>& ordered() const { return order_; }
  // In the order of the config file (request filters run in it).
  std::vector<LoadedPlugin*> in_config_order() const;
  // Opens one plugin library (tests); like load(), before resolve().
  void add_library(const std::string& path, const PluginEntry& entry);
  // Adds a plugin whose descriptor is linked into this process (tests);
  // like load(), before resolve().
  void add_linked(const dicomd_plugin_descriptor* descriptor, const PluginEntry& entry);

 private:
  void destroy_all();
  std::vector<std::unique_ptr<LoadedPlugin>> plugins_;  // config order
  std::vector<LoadedPlugin*> order_;
};

}  // namespace dicomd
