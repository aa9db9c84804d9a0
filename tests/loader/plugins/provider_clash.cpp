// Built twice, as provider-a and provider-b: both provide test.thing v1.
#include "raw_descriptor.h"

namespace {
const dicomd_service_ref kProvides[] = {{"test.thing", 1, 0}};
struct Thing {
  uint32_t struct_size;
} const kThing{sizeof(Thing)};
dicomd_status init(const dicomd_host_api* api, dicomd_host* host, dicomd_str, void** self) {
  *self = nullptr;
  return api->provide(host, "test.thing", 1, &kThing);
}
}  // namespace

TEST_EXPORT const dicomd_plugin_descriptor* dicomd_plugin_entry(void) {
  static dicomd_plugin_descriptor d = [] {
    auto x = test_descriptor(PLUGIN_NAME);
    x.provides = kProvides;
    x.provides_count = 1;
    x.init = init;
    return x;
  }();
  return &d;
}
