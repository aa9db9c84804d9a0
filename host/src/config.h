// The server configuration: one JSON file (docs/configuration.md), or the
// built-in default, then command-line overrides.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dicomd {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct PluginEntry {
  std::string name;
  bool enabled = true;
  std::string config_json = "{}";           // the plugin's own "config" object
  std::map<std::string, std::string> bind;  // service -> provider, for this consumer
};

struct IsolationConfig {
  size_t workers = 2;                 // worker processes per plugin with an isolated job
  uint32_t timeout_ms = 10000;        // default wall-clock limit of one job
  uint64_t memory_mb = 2048;          // RLIMIT_AS of each worker
  uint32_t queue_timeout_ms = 30000;  // longest wait for a free worker (then: busy, 503)
  size_t max_queued = 64;             // jobs waiting for a worker at once (more: busy, 503)
};

struct Config {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  size_t threads = 8;          // request handler threads
  size_t reactor_threads = 0;  // Pistache I/O threads; 0: half the cores, at least 1
  uint64_t max_body_mb = 1024;
  uint32_t keepalive_timeout_ms = 5000;
  uint32_t header_timeout_ms = 10000;
  uint32_t drain_timeout_ms = 30000;
  size_t max_concurrent_uploads = 16;             // requests with a body of 1 MiB or more
  uint64_t max_body_memory_mb = 2048;             // request bodies held at once
  uint64_t max_body_memory_per_client_mb = 1024;  // ...of which one client address may hold
  size_t max_connections = 1024;                  // open at once, every client together
  size_t max_connections_per_client = 64;         // open at once from one client address
  uint64_t max_pipelined_kb = 64;                 // input buffered behind a request being answered
  uint32_t write_timeout_ms = 10000;              // a reply's write may take this long...
  uint64_t min_send_rate_kbps = 64;               // ...plus its size at this rate (KiB/s)
  uint64_t min_body_rate_kbps = 16;  // a body slower than this on average, after header_timeout_ms, is dropped
  bool allow_remote_root = false;    // run as root on a non-loopback address
  std::string data_dir = "./data";
  bool shared_data_folder = false;  // several hosts on one data folder (storage-fs "shared" too)
  std::string plugin_dir;           // empty: next to the executable (see plugin_dir_default)
  std::string log_level = "info";
  std::string log_format = "text";  // or "json": one object per line
  std::string log_file;             // empty: stderr; reopened on SIGHUP
  std::vector<PluginEntry> plugins;
  std::map<std::string, std::string> bind;  // service -> provider, for every consumer
  IsolationConfig isolation;
};

// The four core plugins, listening on 127.0.0.1:8080, data in ./data.
Config default_config();
// Parses a config file's text; unknown keys are errors (they are typos).
Config parse_config(std::string_view json_text);
Config load_config_file(const std::string& path);
// "HOST:PORT", "[::1]:PORT" or ":PORT".
void parse_listen(std::string_view text, std::string& host, uint16_t& port);

}  // namespace dicomd
