#include "raw_descriptor.h"

TEST_EXPORT const dicomd_plugin_descriptor* dicomd_plugin_entry(void) {
  static dicomd_plugin_descriptor d = [] {
    auto x = test_descriptor("wrong-abi-major");
    x.abi_major = DICOMD_ABI_MAJOR + 1;
    return x;
  }();
  return &d;
}
