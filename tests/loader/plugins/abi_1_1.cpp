// A plugin built against ABI 1.1: its descriptor ends before request_filter
// and has a quick route; it must load and serve, quick routes included.
#include <cstddef>

#include "raw_descriptor.h"

namespace {

const dicomd_host_api* g_api = nullptr;  // set once by init, before any request

dicomd_status init(const dicomd_host_api* api, dicomd_host*, dicomd_str, void** self) {
  g_api = api;
  *self = nullptr;
  return DICOMD_OK;
}

// {"mayBlock":0|1}: where the host ran this quick route.
dicomd_status quick(void*, const dicomd_request* request, dicomd_response* response) {
  const char* body = request->may_block ? R"({"mayBlock":1})" : R"({"mayBlock":0})";
  g_api->response_status(response, 200);
  g_api->response_body(response, {"application/json", 16}, {body, 14});
  return DICOMD_OK;
}

const dicomd_route kRoutes[] = {{"GET", "/v11/quick", quick}};
const uint32_t kFlags[] = {DICOMD_ROUTE_QUICK};

}  // namespace

TEST_EXPORT const dicomd_plugin_descriptor* dicomd_plugin_entry(void) {
  static dicomd_plugin_descriptor d = [] {
    auto x = test_descriptor("abi-1-1");
    x.struct_size = offsetof(dicomd_plugin_descriptor, request_filter);
    x.abi_minor = 1;
    x.routes = kRoutes;
    x.route_count = 1;
    x.route_flags = kFlags;
    x.init = init;
    return x;
  }();
  return &d;
}
