// storage-fs: DICOM files grouped in studies on the local filesystem.
// A thin adapter: the SDK on one side, FsBlobStore and FileRoutes (plain C++
// classes, tested directly) on the other.
#include <dicomd/cpp/plugin.hpp>
#include <dicomd/services/storage_v1.h>
#include <dicomd/services/validator_v1.h>

#include <array>
#include <memory>

#include <rapidjson/document.h>

#include "file_routes.h"
#include "fs_blob_store.h"

namespace {

using dicomd::storage::FileRoutes;
using dicomd::storage::FsBlobStore;
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
      return DICOMD_E_INVALID;
    case StoreStatus::kIoError:
      return DICOMD_E_IO;
  }
  return DICOMD_E_INTERNAL;
}

struct Settings {
  std::string root;
  uint64_t max_file_bytes;
};

Settings parse_settings(const dicomd::Host& host, std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) throw std::runtime_error("config must be a JSON object");
  Settings s{host.data_dir() + "/studies", host.max_body_bytes()};
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    std::string key = it->name.GetString();
    if (key == "root" && it->value.IsString()) {
      s.root = it->value.GetString();
      if (!s.root.empty() && s.root[0] != '/') s.root = host.data_dir() + "/" + s.root;
    } else if (key == "max_file_mb" && it->value.IsUint64() && it->value.GetUint64() > 0) {
      s.max_file_bytes = it->value.GetUint64() << 20;
    } else {
      throw std::runtime_error("config: unknown or malformed key \"" + key + "\"");
    }
  }
  return s;
}

class StorageFsPlugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "storage-fs";
  static constexpr const char* kVersion = "0.2.0";
  static constexpr const char* kDescription = "DICOM files grouped in studies on the local filesystem";
  static constexpr std::array kProvides{dicomd_service_ref{DICOMD_STORAGE_SERVICE, 1, 0}};
  static constexpr std::array kRequires{dicomd_service_ref{DICOMD_VALIDATOR_SERVICE, 1, 1}};
  static constexpr auto routes() {
    return std::array{
        dicomd_route{"GET", "/", dicomd::route<&StorageFsPlugin::upload_form>},
        dicomd_route{"POST", "/upload", dicomd::route<&StorageFsPlugin::upload>},
        dicomd_route{"GET", "/files", dicomd::route<&StorageFsPlugin::list_studies>},
        dicomd_route{"GET", "/files/:study", dicomd::route<&StorageFsPlugin::list_files>},
        dicomd_route{"GET", "/files/:study/:file", dicomd::route<&StorageFsPlugin::get_file>},
        dicomd_route{"DELETE", "/files/:study/:file", dicomd::route<&StorageFsPlugin::delete_file>},
        dicomd_route{"DELETE", "/files/:study", dicomd::route<&StorageFsPlugin::delete_study>},
    };
  }

  StorageFsPlugin(dicomd::Host host, std::string_view config)
      : Plugin(host),
        settings_(parse_settings(host, config)),
        store_(settings_.root),
        routes_(host, store_, host.acquire<dicomd_validator_v1>(DICOMD_VALIDATOR_SERVICE, 1),
                settings_.max_file_bytes) {
    vtable_.self = this;
    host.provide(DICOMD_STORAGE_SERVICE, 1, &vtable_);
  }

  void upload_form(const dicomd::Request& q, dicomd::Response& r) { routes_.upload_form(q, r); }
  void upload(const dicomd::Request& q, dicomd::Response& r) { routes_.upload(q, r); }
  void list_studies(const dicomd::Request& q, dicomd::Response& r) { routes_.list_studies(q, r); }
  void list_files(const dicomd::Request& q, dicomd::Response& r) { routes_.list_files(q, r); }
  void get_file(const dicomd::Request& q, dicomd::Response& r) { routes_.get_file(q, r); }
  void delete_file(const dicomd::Request& q, dicomd::Response& r) { routes_.delete_file(q, r); }
  void delete_study(const dicomd::Request& q, dicomd::Response& r) { routes_.delete_study(q, r); }

 private:
  static FsBlobStore& store(void* self) { return static_cast<StorageFsPlugin*>(self)->store_; }
  template <class Fn>
  static dicomd_status guarded(void* self, Fn&& fn) noexcept {
    try {
      return fn();
    } catch (const std::exception& e) {
      static_cast<StorageFsPlugin*>(self)->host().error(e.what());
      return DICOMD_E_INTERNAL;
    }
  }

  Settings settings_;
  FsBlobStore store_;
  FileRoutes routes_;
  dicomd_storage_v1 vtable_{
      sizeof(dicomd_storage_v1),
      nullptr,
      [](void* self, dicomd_str study, dicomd_str name, dicomd_str bytes) {
        return guarded(self, [&] { return to_status(store(self).put(view(study), view(name), view(bytes))); });
      },
      [](void* self, dicomd_str study, dicomd_str name, dicomd_bytes_fn consume, void* ctx) {
        return guarded(self, [&] {
          return to_status(store(self).read(view(study), view(name),
                                            [&](std::string_view bytes) { consume(ctx, dicomd::str(bytes)); }));
        });
      },
      [](void* self, dicomd_str study, dicomd_str name, dicomd_object_info* info) {
        return guarded(self, [&] {
          dicomd::storage::ObjectInfo i;
          StoreStatus s = store(self).stat(view(study), view(name), i);
          if (s == StoreStatus::kOk) *info = dicomd_object_info{i.size, i.modified_ns};
          return to_status(s);
        });
      },
      [](void* self, dicomd_name_fn each, void* ctx) {
        return guarded(self, [&] {
          std::vector<std::string> names;
          StoreStatus s = store(self).list_studies(names);
          for (const auto& n : names) each(ctx, dicomd::str(n));
          return to_status(s);
        });
      },
      [](void* self, dicomd_str study, dicomd_name_fn each, void* ctx) {
        return guarded(self, [&] {
          std::vector<std::string> names;
          StoreStatus s = store(self).list_files(view(study), names);
          for (const auto& n : names) each(ctx, dicomd::str(n));
          return to_status(s);
        });
      },
      [](void* self, dicomd_str study, dicomd_str name) {
        return guarded(self, [&] { return to_status(store(self).remove(view(study), view(name))); });
      },
      [](void* self, dicomd_str study) {
        return guarded(self, [&] {
          size_t removed = 0;
          return to_status(store(self).remove_study(view(study), removed));
        });
      },
      [](void* self) { return store(self).removal_count(); },
  };
  static std::string_view view(dicomd_str s) { return dicomd::view(s); }
};

}  // namespace

DICOMD_PLUGIN(StorageFsPlugin)
