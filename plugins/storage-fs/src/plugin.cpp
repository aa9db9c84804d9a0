// storage-fs: DICOM files grouped in studies on the local filesystem,
// provided as dicomd.storage (the files plugin serves the routes on it).
// A thin adapter: the SDK on one side, FsBlobStore (a plain C++ class,
// tested directly) on the other. Every change is published as a
// "stored" or "removed" event (publishing_store.h).
#include <dicomd/cpp/config.hpp>
#include <dicomd/cpp/plugin.hpp>

#include <array>

#include "fs_blob_store.h"
#include "publishing_store.h"
#include "storage_service.h"

namespace {

using dicomd::storage::FsBlobStore;
using dicomd::storage::PublishingStore;

struct Settings {
  std::string root;
  bool shared = false;  // other dicomd hosts use the folder too
};

// {"root": "studies" (under the data folder unless absolute), "shared": false}
Settings parse_settings(const std::string& data_dir, std::string_view json) {
  dicomd::PluginConfig config(json);
  Settings s{data_dir + "/studies"};
  if (config.get("root", s.root) && !s.root.empty() && s.root[0] != '/') s.root = data_dir + "/" + s.root;
  config.get("shared", s.shared);
  config.finish();
  return s;
}

class StorageFsPlugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "storage-fs";
  static constexpr const char* kVersion = "0.4.0";
  static constexpr const char* kDescription = "DICOM files grouped in studies on the local filesystem";
  static constexpr std::array kProvides{dicomd_service_ref{DICOMD_STORAGE_SERVICE, 1, 0}};
  static constexpr std::array<dicomd_service_ref, 0> kRequires{};
  static constexpr auto routes() { return std::array<dicomd_route, 0>{}; }

  StorageFsPlugin(dicomd::Host host, std::string_view config)
      : Plugin(host),
        settings_(parse_settings(host.data_dir(), config)),
        files_(settings_.root, settings_.shared),
        store_(files_, [host](std::string_view topic, std::string_view key, std::string_view payload) {
          host.publish(topic, key, payload);
        }) {
    // Shared: another host's removals are not counted here, so consumers
    // check each file's version instead of trusting a count (metadata's cache).
    host.provide(DICOMD_STORAGE_SERVICE, 1, service_.vtable());
    collect_metrics(dicomd::storage::storage_metrics(host, store_));
  }

  // The keys and ranges init checks, without creating the storage folder.
  static void check_config(std::string_view json) { parse_settings("/", json); }

 private:
  Settings settings_;
  FsBlobStore files_;
  PublishingStore store_;
  dicomd::storage::StorageService service_{host(), store_, settings_.shared};
};

}  // namespace

DICOMD_PLUGIN(StorageFsPlugin)
