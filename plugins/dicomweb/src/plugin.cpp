// dicomweb: DICOMweb (PS3.18) under /dicom-web — QIDO-RS, WADO-RS and
// STOW-RS — over the index, storage, metadata, render and validator
// services, so that web viewers (OHIF, Cornerstone, Slicer, Weasis) open
// what dicomd stores. The glue only: dicomweb.h holds the resources.
#include <dicomd/cpp/config.hpp>
#include <dicomd/cpp/plugin.hpp>

#include <array>

#include "dicomweb.h"
#include "service_blob_store.h"

namespace dicomd::dicomweb {

Settings Settings::parse(std::string_view json, uint64_t max_body_bytes) {
  PluginConfig config(json);
  Settings s;
  if (const rapidjson::Value* cors = config.value("cors")) s.cors = CorsSettings::parse(*cors);
  uint64_t mb = 0;
  s.max_instance_bytes = max_body_bytes;
  if (config.get_uint("max_instance_mb", mb, 1, 1 << 20)) s.max_instance_bytes = mb << 20;
  if (config.get("base_url", s.base_url)) {
    if (!(s.base_url.starts_with("http://") || s.base_url.starts_with("https://")) || s.base_url.ends_with("/"))
      throw ConfigError(
          "config: base_url is the DICOMweb root as clients reach it (https://host/dicom-web), no "
          "trailing slash");
  }
  config.finish();
  return s;
}

}  // namespace dicomd::dicomweb

namespace {

using dicomd::dicomweb::DicomWeb;

#define DW_STUDY "/dicom-web/studies/:study"
#define DW_SERIES DW_STUDY "/series/:series"
#define DW_INSTANCE DW_SERIES "/instances/:instance"

class DicomWebPlugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "dicomweb";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr const char* kDescription = "DICOMweb under /dicom-web: QIDO-RS, WADO-RS, STOW-RS";
  static constexpr std::array<dicomd_service_ref, 0> kProvides{};
  static constexpr std::array kRequires{
      dicomd_service_ref{DICOMD_STORAGE_SERVICE, 1, 0}, dicomd_service_ref{DICOMD_INDEX_SERVICE, 1, 0},
      dicomd_service_ref{DICOMD_METADATA_SERVICE, 1, 0}, dicomd_service_ref{DICOMD_RENDER_SERVICE, 1, 1},
      dicomd_service_ref{DICOMD_VALIDATOR_SERVICE, 1, 1}};
  static void check_config(std::string_view config) { dicomd::dicomweb::Settings::parse(config, 1); }

  template <auto Method>
  static constexpr dicomd_handler_fn handler() {
    return dicomd::route<&DicomWebPlugin::web_, Method>;
  }

  static constexpr auto resources() {
    return std::array{
        dicomd_route{"GET", "/dicom-web/studies", handler<&DicomWeb::search_studies>()},
        dicomd_route{"GET", "/dicom-web/series", handler<&DicomWeb::search_series>()},
        dicomd_route{"GET", "/dicom-web/instances", handler<&DicomWeb::search_instances>()},
        dicomd_route{"GET", DW_STUDY "/series", handler<&DicomWeb::search_series>()},
        dicomd_route{"GET", DW_STUDY "/instances", handler<&DicomWeb::search_instances>()},
        dicomd_route{"GET", DW_SERIES "/instances", handler<&DicomWeb::search_instances>()},
        dicomd_route{"GET", DW_STUDY, handler<&DicomWeb::retrieve>()},
        dicomd_route{"GET", DW_SERIES, handler<&DicomWeb::retrieve>()},
        dicomd_route{"GET", DW_INSTANCE, handler<&DicomWeb::retrieve>()},
        dicomd_route{"GET", DW_STUDY "/metadata", handler<&DicomWeb::metadata>()},
        dicomd_route{"GET", DW_SERIES "/metadata", handler<&DicomWeb::metadata>()},
        dicomd_route{"GET", DW_INSTANCE "/metadata", handler<&DicomWeb::metadata>()},
        dicomd_route{"GET", DW_INSTANCE "/frames/:frames", handler<&DicomWeb::frames>()},
        dicomd_route{"GET", DW_INSTANCE "/bulk/:tag", handler<&DicomWeb::bulk>()},
        dicomd_route{"GET", DW_INSTANCE "/rendered", handler<&DicomWeb::rendered>()},
        dicomd_route{"GET", DW_INSTANCE "/frames/:frames/rendered", handler<&DicomWeb::rendered>()},
        dicomd_route{"GET", DW_STUDY "/thumbnail", handler<&DicomWeb::thumbnail>()},
        dicomd_route{"GET", DW_SERIES "/thumbnail", handler<&DicomWeb::thumbnail>()},
        dicomd_route{"GET", DW_INSTANCE "/thumbnail", handler<&DicomWeb::thumbnail>()},
        dicomd_route{"GET", DW_INSTANCE "/frames/:frames/thumbnail", handler<&DicomWeb::thumbnail>()},
        dicomd_route{"POST", "/dicom-web/studies", handler<&DicomWeb::store>()},
        dicomd_route{"POST", DW_STUDY, handler<&DicomWeb::store>()},
    };
  }
  // Whether route i's path came before it (POST /dicom-web/studies shares GET's).
  template <size_t N>
  static constexpr bool path_seen_before(const std::array<dicomd_route, N>& all, size_t i) {
    for (size_t k = 0; k < i; ++k)
      if (std::string_view(all[k].pattern) == all[i].pattern) return true;
    return false;
  }
  static constexpr size_t path_count() {
    constexpr auto all = resources();
    size_t n = 0;
    for (size_t i = 0; i < all.size(); ++i) n += path_seen_before(all, i) ? 0 : 1;
    return n;
  }

  // Every resource, then a preflight (CORS) on each of their paths.
  static constexpr auto routes() {
    constexpr auto all = resources();
    std::array<dicomd_route, all.size() + path_count()> out{};
    size_t n = 0;
    for (const auto& r : all) out[n++] = r;
    for (size_t i = 0; i < all.size(); ++i)
      if (!path_seen_before(all, i))
        out[n++] = dicomd_route{"OPTIONS", all[i].pattern, handler<&DicomWeb::preflight>()};
    return out;
  }
  static constexpr auto route_media_types() {
    constexpr auto all = routes();
    std::array<const char*, all.size()> types{};
    for (size_t i = 0; i < all.size(); ++i)
      if (std::string_view(all[i].method) == "POST") types[i] = "multipart/related";  // STOW-RS
    return types;
  }

  DicomWebPlugin(dicomd::Host host, std::string_view config)
      : Plugin(host),
        store_(host.acquire<dicomd_storage_v1>(DICOMD_STORAGE_SERVICE, 1)),
        web_(services(host, store_), dicomd::dicomweb::Settings::parse(config, host.max_body_bytes())) {}

 private:
  dicomd::dicomweb::Services services(dicomd::Host host, dicomd::storage::BlobStore& store) {
    dicomd::dicomweb::Services s{host,
                                 dicomd::Storage(host.acquire<dicomd_storage_v1>(DICOMD_STORAGE_SERVICE, 1)),
                                 dicomd::Index(host.acquire<dicomd_index_v1>(DICOMD_INDEX_SERVICE, 1)),
                                 dicomd::Metadata(host.acquire<dicomd_metadata_v1>(DICOMD_METADATA_SERVICE, 1)),
                                 dicomd::Render(host.acquire<dicomd_render_v1>(DICOMD_RENDER_SERVICE, 1)),
                                 dicomd::Validator(host.acquire<dicomd_validator_v1>(DICOMD_VALIDATOR_SERVICE, 1)),
                                 store};
    if (!s.storage || !s.index || !s.metadata)
      throw std::runtime_error("dicomweb needs storage, index (index-sqlite or index-postgres) and metadata");
    return s;
  }

  dicomd::storage::ServiceBlobStore store_;
  DicomWeb web_;
};

}  // namespace

DICOMD_PLUGIN(DicomWebPlugin)
