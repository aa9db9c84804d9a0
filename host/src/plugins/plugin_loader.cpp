#include "plugins/plugin_loader.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <cstring>
#include <set>
#include <string_view>

#include "host_api.h"
#include "isolation/worker_pool.h"

namespace dicomd {

LoadedPlugin::LoadedPlugin() = default;
LoadedPlugin::~LoadedPlugin() = default;

std::string plugin_library_path(const std::string& dir, const std::string& name) {
  return dir + "/" + name + ".so";
}

namespace {

void check_services(const std::string& name, const dicomd_service_ref* refs, size_t count, const char* what) {
  if (count && !refs) throw PluginError(name, std::string(what) + " list is missing");
  for (size_t i = 0; i < count; ++i)
    if (!refs[i].name || !*refs[i].name || refs[i].major == 0)
      throw PluginError(name, std::string("a ") + what + " entry has no name or major version");
}

void check_routes(const std::string& name, const dicomd_route* routes, size_t count) {
  static const std::set<std::string_view> kMethods = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"};
  if (count && !routes) throw PluginError(name, "route table is missing");
  for (size_t i = 0; i < count; ++i) {
    const dicomd_route& r = routes[i];
    if (!r.method || !kMethods.count(r.method))
      throw PluginError(name, "route " + std::to_string(i) + " has a bad method");
    if (!r.pattern || r.pattern[0] != '/')
      throw PluginError(name, "route " + std::to_string(i) + " pattern must start with '/'");
    if (!r.handler) throw PluginError(name, std::string("route ") + r.method + " " + r.pattern + " has no handler");
  }
}

}  // namespace

void check_descriptor(const std::string& name, const dicomd_plugin_descriptor* d) {
  if (!d) throw PluginError(name, "entry point returned no descriptor");
  if (d->abi_major != DICOMD_ABI_MAJOR)
    throw PluginError(name, "built for plugin ABI " + std::to_string(d->abi_major) + "." +
                                std::to_string(d->abi_minor) + ", this host supports ABI " +
                                std::to_string(DICOMD_ABI_MAJOR) + ".x");
  if (d->abi_minor > DICOMD_ABI_MINOR)
    throw PluginError(name, "built for plugin ABI " + std::to_string(d->abi_major) + "." +
                                std::to_string(d->abi_minor) + ", newer than this host's " +
                                std::to_string(DICOMD_ABI_MAJOR) + "." + std::to_string(DICOMD_ABI_MINOR) +
                                "; upgrade dicomd");
  // Every field of ABI 1.0 must be present.
  if (d->struct_size < offsetof(dicomd_plugin_descriptor, isolated_job) + sizeof(d->isolated_job))
    throw PluginError(name, "descriptor is too small (" + std::to_string(d->struct_size) + " bytes)");
  if (!d->name || name != d->name)
    throw PluginError(name, std::string("library declares the name '") + (d->name ? d->name : "") + "'");
  if (!d->version || !*d->version) throw PluginError(name, "descriptor has no version");
  if (!d->init) throw PluginError(name, "descriptor has no init hook");
  check_services(name, d->provides, d->provides_count, "provides");
  check_services(name, d->requires_, d->requires_count, "requires");
  check_routes(name, d->routes, d->route_count);
}

std::unique_ptr<LoadedPlugin> load_plugin(const std::string& path, const PluginEntry& entry) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw PluginError(entry.name, "plugin file not found: " + path);
  void* library = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char* err = ::dlerror();
    throw PluginError(entry.name, std::string("cannot load ") + path + ": " + (err ? err : "unknown error"));
  }
  auto entry_fn = reinterpret_cast<dicomd_plugin_entry_fn>(::dlsym(library, DICOMD_PLUGIN_ENTRY_SYMBOL));
  if (!entry_fn)
    throw PluginError(entry.name, path + " is not a dicomd plugin (no " DICOMD_PLUGIN_ENTRY_SYMBOL " symbol)");
  const dicomd_plugin_descriptor* d = entry_fn();
  check_descriptor(entry.name, d);

  auto plugin = std::make_unique<LoadedPlugin>();
  plugin->name = entry.name;
  plugin->path = path;
  plugin->entry = entry;
  plugin->library = library;  // intentionally never dlclose'd
  plugin->descriptor = d;
  return plugin;
}

}  // namespace dicomd
