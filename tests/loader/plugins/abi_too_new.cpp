#include "raw_descriptor.h"

TEST_EXPORT const dicomd_plugin_descriptor* dicomd_plugin_entry(void) {
  static dicomd_plugin_descriptor d = [] {
    auto x = test_descriptor("abi-too-new");
    x.abi_minor = DICOMD_ABI_MINOR + 1;
    return x;
  }();
  return &d;
}
