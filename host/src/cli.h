// Command-line options of dicomd.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config.h"

namespace dicomd {

struct CliOptions {
  std::string command = "serve";  // or "reindex", "import", "token", "check-config"
  // dicomd import: the storage-fs folder to copy into the configured storage.
  std::optional<std::string> import_from;
  std::optional<std::string> config_file, listen, data_dir, plugin_dir, log_level, log_format, log_file;
  // dicomd token: an HS256 token for operators (auth-jwt).
  std::optional<std::string> key_file, role, subject;
  int64_t ttl_s = 3600;
  std::vector<std::string> disable;
  bool help = false, version = false, allow_remote_root = false;
};

// Throws ConfigError on an unknown or incomplete option.
CliOptions parse_cli(int argc, char** argv);
// The config file (or default) with the command line applied on top.
Config effective_config(const CliOptions& cli);
std::string usage();

}  // namespace dicomd
