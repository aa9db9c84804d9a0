// GET /metrics: the Prometheus text exposition of the host's request
// series, its worker pools, the process, and every registry family (the
// host's and the plugins').
#pragma once

#include <string>

#include "http/response.h"

namespace dicomd {

class Dispatcher;
class PluginManager;
namespace metrics {
class Registry;
}

http::Response metrics_report(const Dispatcher& dispatcher, const PluginManager& plugins,
                              const metrics::Registry& registry);

}  // namespace dicomd
