#include "raw_descriptor.h"

TEST_EXPORT const dicomd_plugin_descriptor* dicomd_plugin_entry(void) {
  static dicomd_plugin_descriptor d = test_descriptor("somebody-else");
  return &d;
}
