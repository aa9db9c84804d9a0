// Built twice, as route-a and route-b: both declare GET /clash/:id.
#include "raw_descriptor.h"

namespace {
dicomd_status handler(void*, const dicomd_request*, dicomd_response*) {
  return DICOMD_OK;
}
const dicomd_route kRoutes[] = {{"GET", "/clash/:id", handler}};
}  // namespace

TEST_EXPORT const dicomd_plugin_descriptor* dicomd_plugin_entry(void) {
  static dicomd_plugin_descriptor d = [] {
    auto x = test_descriptor(PLUGIN_NAME);
    x.routes = kRoutes;
    x.route_count = 1;
    return x;
  }();
  return &d;
}
