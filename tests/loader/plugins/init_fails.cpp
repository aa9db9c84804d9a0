#include "raw_descriptor.h"

namespace {
const dicomd_host_api* g_unused = nullptr;
dicomd_status failing_init(const dicomd_host_api* api, dicomd_host* host, dicomd_str, void**) {
  const char msg[] = "cannot open its database";
  api->log(host, DICOMD_LOG_ERROR, {msg, sizeof msg - 1});
  (void)g_unused;
  return DICOMD_E_UNAVAILABLE;
}
}  // namespace

TEST_EXPORT const dicomd_plugin_descriptor* dicomd_plugin_entry(void) {
  static dicomd_plugin_descriptor d = [] {
    auto x = test_descriptor("init-fails");
    x.init = failing_init;
    return x;
  }();
  return &d;
}
