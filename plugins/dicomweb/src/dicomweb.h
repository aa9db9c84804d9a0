// The DICOMweb resources (PS3.18) over dicomd's services: QIDO-RS on the
// index, WADO-RS on storage, metadata and render, STOW-RS through the
// validator into storage. Plain C++ behind the plugin glue (plugin.cpp).
#pragma once

#include <dicomd/cpp/host.hpp>
#include <dicomd/cpp/http.hpp>
#include <dicomd/cpp/services.hpp>

#include <string>
#include <vector>

#include "blob_store.h"
#include "cors.h"

namespace dicomd::dicomweb {

struct Settings {
  CorsSettings cors;
  uint64_t max_instance_bytes = 0;  // a STOW part larger than this fails (0xA700)
  std::string base_url;             // RetrieveURLs' base; empty: from the request's Host

  // The plugin's config: {"cors":{...},"max_instance_mb":N,"base_url":"https://..."}.
  static Settings parse(std::string_view json, uint64_t max_body_bytes);
};

struct Services {
  Host host;
  Storage storage;
  Index index;
  Metadata metadata;
  Render render;
  Validator validator;  // may be empty: STOW then answers 503
  storage::BlobStore& store;
};

// One stored instance, as the index knows it.
struct InstanceRef {
  std::string study, file;  // dicomd's names
  std::string study_uid, series_uid, sop_uid, sop_class_uid;
};

class DicomWeb {
 public:
  DicomWeb(Services services, Settings settings) : s_(std::move(services)), settings_(std::move(settings)) {}

  // QIDO-RS
  void search_studies(const Request& req, Response& res);
  void search_series(const Request& req, Response& res);
  void search_instances(const Request& req, Response& res);
  // WADO-RS: instances, metadata, frames, bulk data
  void retrieve(const Request& req, Response& res);
  void metadata(const Request& req, Response& res);
  void frames(const Request& req, Response& res);
  void bulk(const Request& req, Response& res);
  // WADO-RS: rendered and thumbnail
  void rendered(const Request& req, Response& res);
  void thumbnail(const Request& req, Response& res);
  // STOW-RS
  void store(const Request& req, Response& res);
  // CORS preflight
  void preflight(const Request& req, Response& res) { settings_.cors.preflight(req, res); }

 private:
  void search(const Request& req, Response& res, std::string_view level);
  // The instances under the path's study[/series[/instance]], in series
  // and instance number order; 404 when there are none.
  std::vector<InstanceRef> instances_of(const Request& req) const;
  // The first instance of the path's study, series or instance with an image.
  InstanceRef representative(const Request& req) const;
  // "http://host/dicom-web", for RetrieveURL and BulkDataURI.
  std::string base_url(const Request& req) const;
  // The path's frame, 0-based (0 without one); 503 without a renderer.
  uint32_t rendered_frame(const Request& req) const;
  void answer_image(const Request& req, Response& res, const InstanceRef& instance, uint32_t frame, bool thumbnail);
  void settle_events() const;

  Services s_;
  Settings settings_;
};

// A UID as DICOM allows it (PS3.5 9.1): 1 to 64 digits and dots.
bool is_uid(std::string_view s);

}  // namespace dicomd::dicomweb
