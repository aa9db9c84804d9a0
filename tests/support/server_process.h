// Starts the real dicomd binary for integration tests and stops it by PID.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace dicomd::test {

// Paths baked in by CMake.
std::string dicomd_binary();
std::string core_plugin_dir();
std::string test_plugin_dir();
std::string source_dir();
std::string binary_dir();

void write_file(const std::filesystem::path& path, const std::string& content);
std::string read_file(const std::filesystem::path& path);

// The port in the server's "listening on http://HOST:PORT" log line.
std::optional<uint16_t> listening_port(const std::string& log);

struct RunResult {
  int exit_code = -1;  // -1: killed after the timeout
  std::string output;  // stdout + stderr
};
// Runs dicomd with `args` to completion (for start-up failures).
RunResult run_dicomd(const std::vector<std::string>& args, std::chrono::seconds timeout = std::chrono::seconds(20));

class ServerProcess {
 public:
  // Starts dicomd with `args` plus --listen 127.0.0.1:0 (unless args has
  // --listen or a config sets it) and waits until it listens. Throws with
  // the server's log when it exits or does not listen within 30 s.
  explicit ServerProcess(std::vector<std::string> args);
  // Runs `wrapper... dicomd args...` instead (e.g. unshare, a shell setting
  // a ulimit); pid() is then the wrapper's, which execs into dicomd.
  ServerProcess(std::vector<std::string> args, std::vector<std::string> wrapper);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Sends `sig` and waits for exit; returns the exit code (-signal if killed).
  int stop(int sig, std::chrono::seconds timeout = std::chrono::seconds(40));
  bool running();
  std::string log() const;
  // Waits until the log holds `text` (a line written after the reply
  // went out, as the access line is); false after `timeout`.
  bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // Resident memory of the server, in KiB (from /proc).
  long rss_kib() const;
  // Open file descriptors of the server.
  long open_fds() const;

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

}  // namespace dicomd::test
