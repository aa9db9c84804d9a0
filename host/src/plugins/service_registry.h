// Connects required services to their providers and orders plugins so that
// every provider is initialised before its consumers.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "plugins/loaded_plugin.h"

namespace dicomd {

// Fills each plugin's `bound` map and returns the init order (config order
// where dependencies allow). Throws PluginError naming the plugin when a
// required service is missing, ambiguous without a bind, or cyclic.
std::vector<LoadedPlugin*> resolve_services(const std::vector<LoadedPlugin*>& plugins,
                                            const std::map<std::string, std::string>& global_bind);

}  // namespace dicomd
