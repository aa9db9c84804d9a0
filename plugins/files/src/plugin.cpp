// files: the original API's routes (the upload page, upload, lists,
// download, delete) on whichever dicomd.storage the host bound, so that
// storage-fs, storage-s3 or another backend is swapped by config alone.
// A thin adapter: the SDK on one side, FileRoutes and ServiceBlobStore
// (plain C++ classes) on the other.
#include <dicomd/cpp/config.hpp>
#include <dicomd/cpp/plugin.hpp>

#include <array>

#include "file_routes.h"
#include "service_blob_store.h"

namespace dicomd::storage {

template <class P>
constexpr auto file_route_table() {
  return std::array{
      dicomd_route{"GET", "/", dicomd::route<&P::routes_, &FileRoutes::upload_form>},
      dicomd_route{"POST", "/upload", dicomd::route<&P::routes_, &FileRoutes::upload>},
      dicomd_route{"GET", "/files", dicomd::route<&P::routes_, &FileRoutes::list_studies>},
      dicomd_route{"GET", "/files/:study", dicomd::route<&P::routes_, &FileRoutes::list_files>},
      dicomd_route{"GET", "/files/:study/:file", dicomd::route<&P::routes_, &FileRoutes::get_file>},
      dicomd_route{"DELETE", "/files/:study/:file", dicomd::route<&P::routes_, &FileRoutes::delete_file>},
      dicomd_route{"DELETE", "/files/:study", dicomd::route<&P::routes_, &FileRoutes::delete_study>},
  };
}

// OpenAPI operations of the routes above, in order (GET /openapi.json).
constexpr auto file_route_docs() {
  return std::array<const char*, 7>{
      R"json({"summary": "The upload page: a form for POST /upload, and a sign-in box when auth-jwt is on",
          "responses": {"200": {"description": "the page", "content": {"text/html": {"schema": {"type": "string"}}}}}})json",
      R"json({"summary": "Store DICOM files in a study",
          "description": "Each file is validated first; valid files are stored (atomically, never replacing one) even when others fail.",
          "requestBody": {"required": true, "content": {"multipart/form-data": {"schema": {"type": "object",
            "properties": {"study": {"type": "string"}, "files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
            "required": ["study", "files"]}}}},
          "responses": {
            "201": {"description": "every file stored: {\"stored\":[…],\"storedFiles\":N,\"failedFiles\":0,…}",
                    "content": {"application/json": {"schema": {"type": "object"}}}},
            "400": {"description": "no study, a bad study name, no files part, a malformed body",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            "413": {"description": "the body is over max_body_mb"},
            "415": {"description": "not multipart/form-data"},
            "422": {"description": "some files were refused: each with its reason (invalid_name, too_large, duplicate, invalid_type, storage_error)"},
            "503": {"description": "no validator plugin, the storage is unavailable, or the server is busy"}}})json",
      R"json({"summary": "The studies, sorted",
          "responses": {"200": {"description": "{\"studies\":[…],\"studiesCount\":N,\"success\":true}",
                                "content": {"application/json": {"schema": {"type": "object"}}}}}})json",
      R"json({"summary": "The files of a study, sorted",
          "responses": {"200": {"description": "{\"files\":[…],\"filesCount\":N,\"study\":…,\"success\":true}",
                                "content": {"application/json": {"schema": {"type": "object"}}}},
                        "404": {"description": "study not found"}}})json",
      R"json({"summary": "The stored file",
          "parameters": [{"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}],
          "responses": {"200": {"description": "the file, with its ETag; X-Dicomd-Uploader names who uploaded it",
                                "content": {"application/dicom": {"schema": {"type": "string", "format": "binary"}}}},
                        "304": {"description": "unchanged since the ETag given"},
                        "404": {"description": "file not found"}}})json",
      R"json({"summary": "Delete one file (with auth-jwt: its uploader or an admin)",
          "responses": {"200": {"description": "{\"deleted\":…,\"study\":…,\"success\":true}",
                                "content": {"application/json": {"schema": {"type": "object"}}}},
                        "403": {"description": "only the file's uploader or an admin may delete it"},
                        "404": {"description": "file not found"}}})json",
      R"json({"summary": "Delete a study and its files",
          "responses": {"200": {"description": "{\"deletedFiles\":N,\"study\":…,\"success\":true}",
                                "content": {"application/json": {"schema": {"type": "object"}}}},
                        "404": {"description": "study not found"}}})json",
  };
}

// Declared so the host refuses another body type before "100 Continue".
constexpr auto file_route_media_types() {
  return std::array<const char*, 7>{nullptr, "multipart/form-data", nullptr, nullptr, nullptr, nullptr, nullptr};
}

}  // namespace dicomd::storage

namespace {

using dicomd::storage::FileRoutes;
using dicomd::storage::ServiceBlobStore;

// {"max_file_mb": N}
uint64_t parse_max_file_bytes(uint64_t max_body_bytes, std::string_view json) {
  dicomd::PluginConfig config(json);
  uint64_t mb = 0;
  uint64_t max_file_bytes = max_body_bytes;
  if (config.get_uint("max_file_mb", mb, 1, 1 << 20)) max_file_bytes = mb << 20;
  config.finish();
  return max_file_bytes;
}

class FilesPlugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "files";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr const char* kDescription = "the original API's file routes, on any storage backend";
  static constexpr std::array<dicomd_service_ref, 0> kProvides{};
  static constexpr std::array kRequires{dicomd_service_ref{DICOMD_STORAGE_SERVICE, 1, 0},
                                        dicomd_service_ref{DICOMD_VALIDATOR_SERVICE, 1, 1}};
  static constexpr auto routes() { return dicomd::storage::file_route_table<FilesPlugin>(); }
  static constexpr auto route_docs() { return dicomd::storage::file_route_docs(); }
  static constexpr auto route_media_types() { return dicomd::storage::file_route_media_types(); }

  FilesPlugin(dicomd::Host host, std::string_view config)
      : Plugin(host),
        store_(host.acquire<dicomd_storage_v1>(DICOMD_STORAGE_SERVICE, 1)),
        routes_(host, store_, dicomd::Validator(host.acquire<dicomd_validator_v1>(DICOMD_VALIDATOR_SERVICE, 1)),
                parse_max_file_bytes(host.max_body_bytes(), config)) {}

  static void check_config(std::string_view json) { parse_max_file_bytes(1, json); }

 private:
  template <class P>
  friend constexpr auto dicomd::storage::file_route_table();

  ServiceBlobStore store_;
  FileRoutes routes_;
};

}  // namespace

DICOMD_PLUGIN(FilesPlugin)
