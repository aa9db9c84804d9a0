// storage-fs: DICOM files grouped in studies on the local filesystem.
// A thin adapter: the SDK on one side, FsBlobStore and FileRoutes (plain C++
// classes, tested directly) on the other. Every change is published as a
// "stored" or "removed" event (publishing_store.h).
#include <dicomd/cpp/config.hpp>
#include <dicomd/cpp/plugin.hpp>

#include <array>

#include "file_route_table.h"
#include "fs_blob_store.h"
#include "publishing_store.h"
#include "storage_service.h"

namespace {

using dicomd::storage::FileRoutes;
using dicomd::storage::FsBlobStore;
using dicomd::storage::PublishingStore;

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
  static constexpr auto routes() { return dicomd::storage::file_route_table<StorageFsPlugin>(); }
  static constexpr auto route_docs() { return dicomd::storage::file_route_docs(); }
  static constexpr auto route_media_types() { return dicomd::storage::file_route_media_types(); }

  StorageFsPlugin(dicomd::Host host, std::string_view config)
      : Plugin(host),
        settings_(parse_settings(host.data_dir(), host.max_body_bytes(), config)),
        files_(settings_.root, settings_.shared),
        store_(files_, [host](std::string_view topic, std::string_view key,
                              std::string_view payload) { host.publish(topic, key, payload); }),
        routes_(host, store_, dicomd::Validator(host.acquire<dicomd_validator_v1>(DICOMD_VALIDATOR_SERVICE, 1)),
                settings_.max_file_bytes) {
    // Shared: another host's removals are not counted here, so consumers
    // check each file's version instead of trusting a count (metadata's cache).
    host.provide(DICOMD_STORAGE_SERVICE, 1, service_.vtable());
    collect_metrics(dicomd::storage::storage_metrics(host, store_));
  }

  // The keys and ranges init checks, without creating the storage folder.
  static void check_config(std::string_view json) { parse_settings("/", 1, json); }

 private:
  template <class P>
  friend constexpr auto dicomd::storage::file_route_table();

  Settings settings_;
  FsBlobStore files_;
  PublishingStore store_;
  FileRoutes routes_;
  dicomd::storage::StorageService service_{host(), store_, settings_.shared};
};

}  // namespace

DICOMD_PLUGIN(StorageFsPlugin)
