// Hand-written descriptors for deliberately broken plugins: the C++ layer
// would never produce them.
#pragma once

#include <dicomd/plugin.h>

#define TEST_EXPORT extern "C" __attribute__((visibility("default")))

inline dicomd_status test_init_ok(const dicomd_host_api*, dicomd_host*, dicomd_str, void** self) {
  *self = nullptr;
  return DICOMD_OK;
}

inline dicomd_plugin_descriptor test_descriptor(const char* name) {
  dicomd_plugin_descriptor d{};
  d.struct_size = sizeof d;
  d.abi_major = DICOMD_ABI_MAJOR;
  d.abi_minor = DICOMD_ABI_MINOR;
  d.name = name;
  d.version = "0.0.1";
  d.description = "loader test plugin";
  d.init = test_init_ok;
  return d;
}
