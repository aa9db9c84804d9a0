// A plugin built against ABI 1.2: its descriptor ends before
// route_media_types. Whatever lies past its end must not be read: the field
// holds a pointer that would crash the host if followed.
#include <cstddef>
#include <cstdint>

#include "raw_descriptor.h"

namespace {

const dicomd_host_api* g_api = nullptr;  // set once by init, before any request

dicomd_status init(const dicomd_host_api* api, dicomd_host*, dicomd_str, void** self) {
  g_api = api;
  *self = nullptr;
  return DICOMD_OK;
}

dicomd_status accept_any(void*, const dicomd_request*, dicomd_response* response) {
  g_api->response_status(response, 200);
  g_api->response_body(response, {"application/json", 16}, {R"({"success":true})", 16});
  return DICOMD_OK;
}

const dicomd_route kRoutes[] = {{"POST", "/v12/any", accept_any}};

}  // namespace

TEST_EXPORT const dicomd_plugin_descriptor* dicomd_plugin_entry(void) {
  static dicomd_plugin_descriptor d = [] {
    auto x = test_descriptor("abi-1-2");
    x.struct_size = offsetof(dicomd_plugin_descriptor, route_media_types);
    x.abi_minor = 2;
    x.routes = kRoutes;
    x.route_count = 1;
    x.init = init;
    x.route_media_types = reinterpret_cast<const char* const*>(uintptr_t{16});  // past the end: never read
    return x;
  }();
  return &d;
}
