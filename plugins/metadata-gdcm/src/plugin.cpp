// metadata-gdcm: tag extraction with GDCM.
// Foundation stage: declares its routes and dicomd.metadata; answers 501
// until the metadata issue implements them.
#include <dicomd/cpp/plugin.hpp>
#include <dicomd/services/metadata_v1.h>
#include <dicomd/services/storage_v1.h>

#include <array>

namespace {

class MetadataGdcmPlugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "metadata-gdcm";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr const char* kDescription = "DICOM tags as JSON, read with GDCM";
  static constexpr std::array kProvides{dicomd_service_ref{DICOMD_METADATA_SERVICE, 1, 0}};
  static constexpr std::array kRequires{dicomd_service_ref{DICOMD_STORAGE_SERVICE, 1, 0}};
  static constexpr auto routes() {
    return std::array{
        dicomd_route{"GET", "/files/:study/:file/tag", dicomd::route<&MetadataGdcmPlugin::not_implemented>},
        dicomd_route{"GET", "/files/:study/:file/tags", dicomd::route<&MetadataGdcmPlugin::not_implemented>},
    };
  }

  MetadataGdcmPlugin(dicomd::Host host, std::string_view) : Plugin(host) {
    storage_ = host.acquire<dicomd_storage_v1>(DICOMD_STORAGE_SERVICE, 1);
    metadata_.self = this;
    host.provide(DICOMD_METADATA_SERVICE, 1, &metadata_);
  }

  void not_implemented(const dicomd::Request& req, dicomd::Response& res) {
    res.error(501, "not implemented yet: " + std::string(req.method()) + " " + std::string(req.path()));
  }

 private:
  const dicomd_storage_v1* storage_ = nullptr;
  dicomd_metadata_v1 metadata_{sizeof(dicomd_metadata_v1), nullptr,
                               [](void*, dicomd_str, dicomd_str, const dicomd_str*, size_t,
                                  dicomd_sink) -> dicomd_status { return DICOMD_E_UNSUPPORTED; }};
};

}  // namespace

DICOMD_PLUGIN(MetadataGdcmPlugin)
