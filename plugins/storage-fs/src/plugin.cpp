// storage-fs: files grouped in studies on the local filesystem.
// Foundation stage: declares its routes and the dicomd.storage service; every
// route answers 501 until the storage issue implements them.
#include <dicomd/cpp/plugin.hpp>
#include <dicomd/services/storage_v1.h>
#include <dicomd/services/validator_v1.h>

#include <array>

namespace {

dicomd_status unsupported() {
  return DICOMD_E_UNSUPPORTED;
}

class StorageFsPlugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "storage-fs";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr const char* kDescription = "DICOM files grouped in studies on the local filesystem";
  static constexpr std::array kProvides{dicomd_service_ref{DICOMD_STORAGE_SERVICE, 1, 0}};
  static constexpr std::array kRequires{dicomd_service_ref{DICOMD_VALIDATOR_SERVICE, 1, 1}};
  static constexpr auto routes() {
    return std::array{
        dicomd_route{"POST", "/upload", dicomd::route<&StorageFsPlugin::not_implemented>},
        dicomd_route{"GET", "/files", dicomd::route<&StorageFsPlugin::not_implemented>},
        dicomd_route{"GET", "/files/:study", dicomd::route<&StorageFsPlugin::not_implemented>},
        dicomd_route{"GET", "/files/:study/:file", dicomd::route<&StorageFsPlugin::not_implemented>},
        dicomd_route{"DELETE", "/files/:study/:file", dicomd::route<&StorageFsPlugin::not_implemented>},
        dicomd_route{"DELETE", "/files/:study", dicomd::route<&StorageFsPlugin::not_implemented>},
    };
  }

  StorageFsPlugin(dicomd::Host host, std::string_view) : Plugin(host) {
    storage_.self = this;
    host.provide(DICOMD_STORAGE_SERVICE, 1, &storage_);
  }

  void not_implemented(const dicomd::Request& req, dicomd::Response& res) {
    res.error(501, "not implemented yet: " + std::string(req.method()) + " " + std::string(req.path()));
  }

 private:
  dicomd_storage_v1 storage_{
      sizeof(dicomd_storage_v1),
      nullptr,
      [](void*, dicomd_str, dicomd_str, dicomd_str) { return unsupported(); },
      [](void*, dicomd_str, dicomd_str, dicomd_bytes_fn, void*) { return unsupported(); },
      [](void*, dicomd_str, dicomd_str, dicomd_object_info*) { return unsupported(); },
      [](void*, dicomd_name_fn, void*) { return unsupported(); },
      [](void*, dicomd_str, dicomd_name_fn, void*) { return unsupported(); },
      [](void*, dicomd_str, dicomd_str) { return unsupported(); },
      [](void*, dicomd_str) { return unsupported(); },
  };
};

}  // namespace

DICOMD_PLUGIN(StorageFsPlugin)
