// A plugin built against ABI 1.0: its descriptor ends before route_flags,
// and its request struct before may_block. It must load and serve.
#include <cstddef>

#include "raw_descriptor.h"

namespace {

dicomd_status hello(void*, const dicomd_request* request, dicomd_response* response);
const dicomd_host_api* g_api = nullptr;  // set once by init, before any request

dicomd_status init(const dicomd_host_api* api, dicomd_host*, dicomd_str, void** self) {
  g_api = api;
  *self = nullptr;
  return DICOMD_OK;
}

dicomd_status hello(void*, const dicomd_request*, dicomd_response* response) {
  const char body[] = R"({"success":true})";
  g_api->response_status(response, 200);
  g_api->response_body(response, {"application/json", 16}, {body, sizeof body - 1});
  return DICOMD_OK;
}

const dicomd_route kRoutes[] = {{"GET", "/old/hello", hello}};

}  // namespace

TEST_EXPORT const dicomd_plugin_descriptor* dicomd_plugin_entry(void) {
  static dicomd_plugin_descriptor d = [] {
    auto x = test_descriptor("abi-1-0");
    x.struct_size = offsetof(dicomd_plugin_descriptor, route_flags);
    x.abi_minor = 0;
    x.routes = kRoutes;
    x.route_count = 1;
    x.init = init;
    return x;
  }();
  return &d;
}
