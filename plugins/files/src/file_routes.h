// The REST routes of the original API for files and studies, written against
// the BlobStore interface so that any storage backend can serve them.
#pragma once

#include <dicomd/cpp/plugin.hpp>

#include "blob_store.h"

namespace dicomd::storage {

class FileRoutes {
 public:
  // `validator` may be empty (plugin disabled): uploads then answer 503.
  FileRoutes(const Host& host, BlobStore& store, Validator validator, uint64_t max_file_bytes)
      : host_(host), store_(store), validator_(validator), max_file_bytes_(max_file_bytes) {}

  void upload_form(const Request& req, Response& res);   // GET /
  void upload(const Request& req, Response& res);        // POST /upload
  void list_studies(const Request& req, Response& res);  // GET /files
  void list_files(const Request& req, Response& res);    // GET /files/:study
  void get_file(const Request& req, Response& res);      // GET /files/:study/:file
  void delete_file(const Request& req, Response& res);   // DELETE /files/:study/:file
  void delete_study(const Request& req, Response& res);  // DELETE /files/:study

 private:
  struct Failure {
    std::string name, reason, detail;
  };
  // Judges and stores one uploaded file; returns the failure, if any.
  std::optional<Failure> store_one(std::string_view study, std::string_view client_name, std::string_view data,
                                   std::string_view uploader);
  void settle_events() const;
  // 403 unless the caller may delete this file (its uploader, or an admin).
  void check_owner(const Request& req, std::string_view study, std::string_view file);

  static constexpr uint32_t kSettleTimeoutMs = 10000;

  Host host_;
  BlobStore& store_;
  Validator validator_;
  uint64_t max_file_bytes_;
};

}  // namespace dicomd::storage
