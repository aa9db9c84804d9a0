#include "plugins/plugin_manager.h"

#include <algorithm>

#include "isolation/worker_pool.h"
#include "log.h"
#include "plugins/plugin_loader.h"
#include "plugins/service_registry.h"

namespace dicomd {

PluginManager::~PluginManager() {
  stop_all();
  destroy_all();
}

void PluginManager::load(const Config& config, const std::string& plugin_dir) {
  for (const PluginEntry& entry : config.plugins) {
    if (!entry.enabled) {
      log::info("dicomd", "plugin '" + entry.name + "' is disabled");
      continue;
    }
    add_library(plugin_library_path(plugin_dir, entry.name), entry);
  }
}

std::vector<LoadedPlugin*> PluginManager::in_config_order() const {
  std::vector<LoadedPlugin*> out;
  for (const auto& p : plugins_) out.push_back(p.get());
  return out;
}

void PluginManager::add_library(const std::string& path, const PluginEntry& entry) {
  plugins_.push_back(load_plugin(path, entry));
}

void PluginManager::add_linked(const dicomd_plugin_descriptor* descriptor, const PluginEntry& entry) {
  check_descriptor(entry.name, descriptor);
  auto plugin = std::make_unique<LoadedPlugin>();
  plugin->name = entry.name;
  plugin->entry = entry;
  plugin->descriptor = descriptor;
  plugins_.push_back(std::move(plugin));
}

void PluginManager::resolve(const std::map<std::string, std::string>& global_bind) {
  std::vector<LoadedPlugin*> all;
  for (auto& p : plugins_) all.push_back(p.get());
  order_ = resolve_services(all, global_bind);
}

void PluginManager::init_all(HostContext& context) {
  for (LoadedPlugin* p : order_) {
    p->handle = std::make_unique<dicomd_host>();
    p->handle->plugin = p;
    p->handle->context = &context;
    p->handle->in_init = true;
    const std::string& cfg = p->entry.config_json;
    dicomd_status status = p->descriptor->init(host_api_table(), p->handle.get(), {cfg.data(), cfg.size()}, &p->self);
    p->handle->in_init = false;
    if (status != DICOMD_OK) throw PluginError(p->name, "init failed (status " + std::to_string(status) + ")");
    p->initialized = true;
    const auto* d = p->descriptor;
    log::info("dicomd", "plugin '" + p->name + "' " + d->version + " loaded");
    for (size_t i = 0; i < d->provides_count; ++i)
      if (!p->provided.count(service_key(d->provides[i].name, d->provides[i].major)))
        throw PluginError(
            p->name, std::string("declares service ") + d->provides[i].name + " but did not provide it during init");
  }
}

void PluginManager::start_workers(const std::string& self_exe, const IsolationConfig& config) {
  for (LoadedPlugin* p : order_) {
    if (!p->descriptor->isolated_job || p->path.empty()) continue;  // a linked plugin has no library to run
    p->workers = std::make_unique<WorkerPool>(self_exe, p->path, p->name, config);
    try {
      p->workers->start();
    } catch (const std::exception& e) {
      throw PluginError(p->name, e.what());
    }
  }
}

void PluginManager::start_all() {
  for (LoadedPlugin* p : order_) {
    if (p->descriptor->start) {
      dicomd_status status = p->descriptor->start(p->self);
      if (status != DICOMD_OK) throw PluginError(p->name, "start failed (status " + std::to_string(status) + ")");
    }
    p->started = true;
  }
}

void PluginManager::stop_all() {
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
    LoadedPlugin* p = *it;
    if (!p->started) continue;
    if (p->descriptor->stop) p->descriptor->stop(p->self);
    p->started = false;
  }
}

void PluginManager::destroy_all() {
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
    LoadedPlugin* p = *it;
    p->workers.reset();
    if (p->initialized && p->descriptor->destroy) p->descriptor->destroy(p->self);
    p->initialized = false;
  }
}

}  // namespace dicomd
