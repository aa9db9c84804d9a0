// The host's record of one loaded plugin.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include <dicomd/plugin.h>

#include "config.h"

struct dicomd_host;  // defined in host_api.h

namespace dicomd {

class WorkerPool;

// An operator-visible failure about one plugin: "plugin 'x': reason".
struct PluginError : std::runtime_error {
  PluginError(const std::string& plugin_name, const std::string& reason)
      : std::runtime_error("plugin '" + plugin_name + "': " + reason), plugin(plugin_name) {}
  std::string plugin;
};

// "dicomd.storage@1": services are matched by name and major version.
inline std::string service_key(const std::string& name, uint32_t major) {
  return name + "@" + std::to_string(major);
}

struct LoadedPlugin {
  LoadedPlugin();
  ~LoadedPlugin();
  LoadedPlugin(const LoadedPlugin&) = delete;
  LoadedPlugin& operator=(const LoadedPlugin&) = delete;

  std::string name;
  std::string path;         // the shared library
  PluginEntry entry;        // its config entry
  void* library = nullptr;  // dlopen handle; never closed (routes point into it)
  const dicomd_plugin_descriptor* descriptor = nullptr;

  void* self = nullptr;  // what init returned
  bool initialized = false;
  bool started = false;

  std::map<std::string, const void*> provided;  // service key -> vtable
  std::map<std::string, LoadedPlugin*> bound;   // service key -> provider
  std::unique_ptr<dicomd_host> handle;          // passed to every host function
  std::unique_ptr<WorkerPool> workers;          // when it has an isolated_job

  // DICOMD_ROUTE_* bits of route i; 0 for a plugin built before ABI 1.1.
  uint32_t route_flags(size_t i) const {
    const auto* d = descriptor;
    bool has_field = d->abi_minor >= 1 && DICOMD_HAS_FIELD(d, dicomd_plugin_descriptor, route_flags);
    return has_field && d->route_flags ? d->route_flags[i] : 0;
  }
  // The media types route i accepts ("multipart/form-data, ..."), or null
  // for any (and for a plugin built before ABI 1.3).
  const char* route_media_types(size_t i) const {
    const auto* d = descriptor;
    bool has_field = d->abi_minor >= 3 && DICOMD_HAS_FIELD(d, dicomd_plugin_descriptor, route_media_types);
    return has_field && d->route_media_types ? d->route_media_types[i] : nullptr;
  }
  // Route i's OpenAPI operation (JSON), or "" (and before ABI 1.4).
  std::string route_doc(size_t i) const {
    const auto* d = descriptor;
    bool has_field = d->abi_minor >= 4 && DICOMD_HAS_FIELD(d, dicomd_plugin_descriptor, route_docs);
    return has_field && d->route_docs && d->route_docs[i] ? d->route_docs[i] : "";
  }
  decltype(dicomd_plugin_descriptor::check_config) check_config() const {
    const auto* d = descriptor;
    return d->abi_minor >= 4 && DICOMD_HAS_FIELD(d, dicomd_plugin_descriptor, check_config) ? d->check_config : nullptr;
  }
  // The request filter and after-answer hook; null before ABI 1.2.
  decltype(dicomd_plugin_descriptor::request_filter) request_filter() const {
    const auto* d = descriptor;
    return d->abi_minor >= 2 && DICOMD_HAS_FIELD(d, dicomd_plugin_descriptor, request_filter) ? d->request_filter
                                                                                              : nullptr;
  }
  decltype(dicomd_plugin_descriptor::after_answer) after_answer() const {
    const auto* d = descriptor;
    return d->abi_minor >= 2 && DICOMD_HAS_FIELD(d, dicomd_plugin_descriptor, after_answer) ? d->after_answer : nullptr;
  }
};

}  // namespace dicomd
