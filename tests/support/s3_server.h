// A local S3 server for a test: tests/s3/s3_server.cjs (npm
// @20minutes/s3rver, installed by scripts/test), on a loopback port, with
// its objects in a temporary folder and a key pair of its own. It checks
// Signature V4 signatures. A test that needs it fails, never skips, when it
// cannot start.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "temp_dir.h"

namespace dicomd::test {

class S3Server {
 public:
  static constexpr const char* kBucket = "dicom";
  // `bucket` "-" starts it without any bucket. `torn_puts`: keep what a
  // cut PUT sent, as s3rver itself does (by default a PUT commits whole or
  // not at all, as on S3).
  explicit S3Server(std::string bucket = kBucket, bool torn_puts = false);
  ~S3Server();
  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  uint16_t port() const { return port_; }
  std::string endpoint() const;
  // Stops it (kill -9 when `hard`); start() brings it back on the same port
  // and folder.
  void stop(bool hard = false);
  void start();
  bool running() const { return pid_ > 0; }
  // Freezes it (SIGSTOP: connections are accepted, nothing is answered)
  // and thaws it.
  void pause();
  void resume();
  // Its secret from the next start() on (dicomd keeps the old one: 403).
  void change_secret(const std::string& secret);

  // The storage-s3 config keys for this server, without braces: what a
  // test puts in the plugin's "config" object.
  std::string config_keys(const std::string& secret_file = "", const std::string& endpoint = "") const;
  std::string secret_file() const { return (dir_ / "secret-key").string(); }
  std::string access_file() const { return (dir_ / "access-key").string(); }
  std::string wrong_secret_file() const { return (dir_ / "wrong-secret-key").string(); }
  // Stores an object through S3 (signed), as another tool would.
  void put_object(const std::string& key, const std::string& bytes) const;

  // What the bucket holds: every object key, sorted (read from the
  // server's folder, not through S3).
  std::vector<std::string> object_keys() const;
  // An object's bytes (from the server's folder); throws when absent.
  std::string object_bytes(const std::string& key) const;

 private:
  void launch(uint16_t port);
  TempDir dir_;
  std::string bucket_;
  bool torn_puts_;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace dicomd::test
