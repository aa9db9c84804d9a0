// Opens a plugin library and checks its descriptor before anything runs.
#pragma once

#include <memory>
#include <string>

#include "plugins/loaded_plugin.h"

namespace dicomd {

// The library file of plugin `name` in `dir`: DIR/NAME.so.
std::string plugin_library_path(const std::string& dir, const std::string& name);

// dlopen(RTLD_NOW | RTLD_LOCAL), find the entry point, check ABI version
// and declarations. Throws PluginError naming the plugin and the reason.
std::unique_ptr<LoadedPlugin> load_plugin(const std::string& path, const PluginEntry& entry);

// Only the descriptor checks (also used by worker processes).
void check_descriptor(const std::string& name, const dicomd_plugin_descriptor* d);

}  // namespace dicomd
