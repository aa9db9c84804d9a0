// The real dicomd with its core plugins on a loopback port, data in a fresh
// temporary folder; helpers for the original API's calls.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "dicom_files.h"
#include "http_client.h"
#include "server_process.h"

namespace dicomd::test {

class CoreServer {
 public:
  explicit CoreServer(std::vector<std::string> extra_args = {}, const std::string& config_json = "",
                      std::vector<std::string> wrapper = {});
  // Stops the server with SIGTERM and expects a clean exit 0 (under the
  // sanitizers, a leak or error report makes the exit code non-zero).
  ~CoreServer();
  uint16_t port() const { return server_->port(); }
  ServerProcess& process() { return *server_; }
  std::filesystem::path data_dir() const { return dir_ / "data"; }
  std::filesystem::path studies_dir() const { return dir_ / "data" / "studies"; }
  const TempDir& dir() const { return dir_; }
  // Starts a new dicomd process on the same data folder (after a crash).
  void restart();

  HttpReply get(const std::string& target) { return request(port(), "GET", target); }
  HttpReply del(const std::string& target) { return request(port(), "DELETE", target); }
  HttpReply upload(const std::string& study, const std::vector<FormFile>& files);
  HttpReply upload_paths(const std::string& study, const std::vector<std::filesystem::path>& paths);

 private:
  TempDir dir_;
  std::vector<std::string> args_, wrapper_;
  std::unique_ptr<ServerProcess> server_;
};

rapidjson::Document parse_json(const std::string& body);
// Every regular file under `dir`, relative paths, sorted.
std::vector<std::string> files_under(const std::filesystem::path& dir);
// Percent-encodes a path segment.
std::string url_encode(const std::string& s);

}  // namespace dicomd::test
