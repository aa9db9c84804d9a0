// storage-fs: DICOM files grouped in studies on the local filesystem.
// A thin adapter: the SDK on one side, FsBlobStore and FileRoutes (plain C++
// classes, tested directly) on the other. Every change is published as a
// "stored" or "removed" event (publishing_store.h).
#include <dicomd/cpp/config.hpp>
#include <dicomd/cpp/plugin.hpp>

#include <array>

#include "file_routes.h"
#include "fs_blob_store.h"
#include "publishing_store.h"

namespace {

using dicomd::storage::FileRoutes;
using dicomd::storage::FsBlobStore;
using dicomd::storage::ObjectInfo;
using dicomd::storage::PublishingStore;
using dicomd::storage::StoreStatus;

dicomd_status to_status(StoreStatus s) {
  switch (s) {
    case StoreStatus::kOk:
      return DICOMD_OK;
    case StoreStatus::kNotFound:
      return DICOMD_E_NOT_FOUND;
    case StoreStatus::kExists:
      return DICOMD_E_EXISTS;
    case StoreStatus::kInvalidName:
    case StoreStatus::kRefused:  // (the storage service's put runs no check)
      return DICOMD_E_INVALID;
    case StoreStatus::kIoError:
      return DICOMD_E_IO;
  }
  return DICOMD_E_INTERNAL;
}

struct Settings {
  std::string root;
  uint64_t max_file_bytes;
  bool shared = false;  // other dicomd hosts use the folder too
};

// {"root": "studies" (under the data folder unless absolute), "max_file_mb": N}
Settings parse_settings(const std::string& data_dir, uint64_t max_body_bytes, std::string_view json) {
  dicomd::PluginConfig config(json);
  Settings s{data_dir + "/studies", max_body_bytes};
  if (config.get("root", s.root) && !s.root.empty() && s.root[0] != '/') s.root = data_dir + "/" + s.root;
  uint64_t mb = 0;
  if (config.get_uint("max_file_mb", mb, 1, 1 << 20)) s.max_file_bytes = mb << 20;
  config.get("shared", s.shared);
  config.finish();
  return s;
}

class StorageFsPlugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "storage-fs";
  static constexpr const char* kVersion = "0.3.0";
  static constexpr const char* kDescription = "DICOM files grouped in studies on the local filesystem";
  static constexpr std::array kProvides{dicomd_service_ref{DICOMD_STORAGE_SERVICE, 1, 0}};
  static constexpr std::array kRequires{dicomd_service_ref{DICOMD_VALIDATOR_SERVICE, 1, 1}};
  static constexpr auto routes() {
    using P = StorageFsPlugin;
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
  static constexpr auto route_docs() {
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
              "503": {"description": "no validator plugin, or the server is busy"}}})json",
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
  static constexpr auto route_media_types() {
    return std::array<const char*, 7>{nullptr, "multipart/form-data", nullptr, nullptr, nullptr, nullptr, nullptr};
  }

  StorageFsPlugin(dicomd::Host host, std::string_view config)
      : Plugin(host),
        settings_(parse_settings(host.data_dir(), host.max_body_bytes(), config)),
        files_(settings_.root, settings_.shared),
        store_(files_, [host](std::string_view topic, std::string_view key,
                              std::string_view payload) { host.publish(topic, key, payload); }),
        routes_(host, store_, dicomd::Validator(host.acquire<dicomd_validator_v1>(DICOMD_VALIDATOR_SERVICE, 1)),
                settings_.max_file_bytes) {
    // Another host's removals are not counted here: consumers must check
    // each file's version instead of trusting a count (metadata's cache).
    if (settings_.shared) vtable_.removal_count = nullptr;
    host.provide(DICOMD_STORAGE_SERVICE, 1, &vtable_);
    collect_metrics([this, stored = host.counter("dicomd_storage_files_stored_total", "Files stored since start."),
                     bytes = host.counter("dicomd_storage_bytes_stored_total", "Bytes of files stored since start."),
                     removed = host.counter("dicomd_storage_files_removed_total", "Files removed since start."),
                     errors = host.counter("dicomd_storage_write_errors_total",
                                           "Files not stored for an I/O error (disk full, ...).")] {
      auto t = store_.totals();
      stored.set(static_cast<double>(t.files_stored));
      bytes.set(static_cast<double>(t.bytes_stored));
      removed.set(static_cast<double>(t.files_removed));
      errors.set(static_cast<double>(t.write_errors));
    });
  }

  // The keys and ranges init checks, without creating the storage folder.
  static void check_config(std::string_view json) { parse_settings("/", 1, json); }

 private:
  // A span of the request's trace around a storage call; an I/O failure
  // is marked on it (and reaches error trackers) without names or paths.
  template <class Call>
  dicomd_status traced(const char* span_name, const char* what, Call&& call) {
    auto span = host().span(span_name);
    dicomd_status status = call();
    if (status == DICOMD_E_IO || status == DICOMD_E_INTERNAL)
      span.fail(status, std::string("storage-fs could not ") + what);
    return status;
  }

  // dicomd.storage v1, on the same store as the routes (so it publishes too).
  dicomd_status put(dicomd_str study, dicomd_str name, dicomd_str bytes) {
    return traced("storage.write", "write a file",
                  [&] { return to_status(store_.put(dicomd::view(study), dicomd::view(name), dicomd::view(bytes))); });
  }
  dicomd_status read(dicomd_str study, dicomd_str name, dicomd_bytes_fn consume, void* ctx) {
    return traced("storage.read", "read a file", [&] {
      return to_status(store_.read(dicomd::view(study), dicomd::view(name),
                                   [&](std::string_view bytes) { consume(ctx, dicomd::str(bytes)); }));
    });
  }
  dicomd_status stat(dicomd_str study, dicomd_str name, dicomd_object_info* info) {
    ObjectInfo i;
    StoreStatus s = store_.stat(dicomd::view(study), dicomd::view(name), i);
    if (s == StoreStatus::kOk) *info = dicomd_object_info{i.size, i.modified_ns};
    return to_status(s);
  }
  dicomd_status list_studies(dicomd_name_fn each, void* ctx) {
    std::vector<std::string> names;
    StoreStatus s = store_.list_studies(names);
    for (const auto& n : names) each(ctx, dicomd::str(n));
    return to_status(s);
  }
  dicomd_status list_files(dicomd_str study, dicomd_name_fn each, void* ctx) {
    std::vector<std::string> names;
    StoreStatus s = store_.list_files(dicomd::view(study), names);
    for (const auto& n : names) each(ctx, dicomd::str(n));
    return to_status(s);
  }
  dicomd_status remove(dicomd_str study, dicomd_str name) {
    return to_status(store_.remove(dicomd::view(study), dicomd::view(name)));
  }
  dicomd_status remove_study(dicomd_str study) {
    size_t removed = 0;
    return to_status(store_.remove_study(dicomd::view(study), removed));
  }
  uint64_t removal_count() { return store_.removal_count(); }
  dicomd_status open(dicomd_str study, dicomd_str name, int32_t* fd, uint64_t* size) {
    return traced("storage.open", "open a file", [&] {
      ObjectInfo i;
      int opened = -1;
      StoreStatus s = store_.open(dicomd::view(study), dicomd::view(name), opened, i);
      if (s == StoreStatus::kOk) {
        *fd = opened;
        *size = i.size;
      }
      return to_status(s);
    });
  }
  dicomd_status content_hash(dicomd_str study, dicomd_str name, dicomd_sink hash) {
    ObjectInfo i;
    StoreStatus s = store_.stat(dicomd::view(study), dicomd::view(name), i);
    if (s == StoreStatus::kOk) hash.write(hash.ctx, i.content_hash.data(), i.content_hash.size());
    return to_status(s);
  }

  Settings settings_;
  FsBlobStore files_;
  PublishingStore store_;
  FileRoutes routes_;
  dicomd_storage_v1 vtable_{
      sizeof(dicomd_storage_v1),
      this,
      dicomd::service<&StorageFsPlugin::put>,
      dicomd::service<&StorageFsPlugin::read>,
      dicomd::service<&StorageFsPlugin::stat>,
      dicomd::service<&StorageFsPlugin::list_studies>,
      dicomd::service<&StorageFsPlugin::list_files>,
      dicomd::service<&StorageFsPlugin::remove>,
      dicomd::service<&StorageFsPlugin::remove_study>,
      dicomd::service<&StorageFsPlugin::removal_count>,
      dicomd::service<&StorageFsPlugin::content_hash>,
      dicomd::service<&StorageFsPlugin::open>,
  };
};

}  // namespace

DICOMD_PLUGIN(StorageFsPlugin)
