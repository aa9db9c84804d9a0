// The host's own routes: GET /plugins and GET /health.
#pragma once

#include <string>

#include "config.h"
#include "http/response.h"
#include "plugins/plugin_manager.h"

namespace dicomd {

// What the plugins are: name, version, ABI, services, routes, enabled flag.
http::Response plugins_report(const Config& config, const PluginManager& plugins);
// Liveness plus each plugin's readiness; 503 when one is not ready.
http::Response health_report(const PluginManager& plugins);

}  // namespace dicomd
