// The real dicomd with its core plugins on a loopback port, data in a fresh
// temporary folder; helpers for the original API's calls.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "dicom_files.h"
#include "http_client.h"
#include "s3_server.h"
#include "server_process.h"

namespace dicomd::test {

// The storage under test is storage-fs, or storage-s3 on a local S3 server
// of its own when DICOMD_TEST_STORAGE=s3: CTest runs the original-API suite
// both ways (the "s3." tests), with every storage-fs entry of a config
// swapped for storage-s3.
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

  // What the storage holds, whichever it is: "study/file" for every stored
  // file and anything else left there (a temporary file, a claim).
  std::vector<std::string> stored_files() const;
  std::string stored_bytes(const std::string& study, const std::string& file) const;
  // What an interrupted write could leave behind: temporary files, claims.
  std::vector<std::string> leftovers() const;
  // Puts bytes into the storage by other means than an upload (a restore).
  void store_by_hand(const std::string& study, const std::string& file, const std::string& bytes);
  S3Server* s3() { return s3_.get(); }

  HttpReply get(const std::string& target) { return request(port(), "GET", target); }
  HttpReply del(const std::string& target) { return request(port(), "DELETE", target); }
  HttpReply upload(const std::string& study, const std::vector<FormFile>& files);
  HttpReply upload_paths(const std::string& study, const std::vector<std::filesystem::path>& paths);

 private:
  TempDir dir_;
  std::unique_ptr<S3Server> s3_;
  std::vector<std::string> args_, wrapper_;
  std::unique_ptr<ServerProcess> server_;
};

rapidjson::Document parse_json(const std::string& body);
// Every regular file under `dir`, relative paths, sorted.
std::vector<std::string> files_under(const std::filesystem::path& dir);
// `config_json` (or the default plugins when it names none) with every
// storage-fs entry replaced by storage-s3 on `s3`.
std::string with_s3_storage(const std::string& config_json, const S3Server& s3);
// Percent-encodes a path segment.
std::string url_encode(const std::string& s);

}  // namespace dicomd::test
