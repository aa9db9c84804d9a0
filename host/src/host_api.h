// The C function table handed to plugins (sdk/include/dicomd/host.h).
#pragma once

#include <string>

#include <dicomd/host.h>

#include "config.h"
#include "http/response.h"

namespace dicomd {

struct LoadedPlugin;
class PluginManager;
class EventBus;
namespace metrics {
class Registry;
}

// What every plugin handle shares.
struct HostContext {
  std::string data_dir;
  uint64_t max_body_bytes = 0;
  PluginManager* plugins = nullptr;
  EventBus* events = nullptr;
  metrics::Registry* metrics = nullptr;
};

const dicomd_host_api* host_api_table();

// A sink that appends to `out` (which must outlive it): for what a plugin
// writes back (readiness detail, a config problem).
inline dicomd_sink append_sink(std::string& out) {
  return {&out, [](void* ctx, const void* data, size_t len) {
            static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), len);
          }};
}

}  // namespace dicomd

// Opaque to plugins; one per plugin.
struct dicomd_host {
  dicomd::LoadedPlugin* plugin = nullptr;
  dicomd::HostContext* context = nullptr;
  bool in_init = false;  // provide/acquire are allowed only during init
};

// Opaque to plugins; one per request.
struct dicomd_response {
  dicomd::http::Response response;
  std::string subject, role;  // set by a request filter (set_identity)
};
