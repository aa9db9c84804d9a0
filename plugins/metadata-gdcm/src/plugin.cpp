// metadata-gdcm: tags of stored files as JSON. Stored files were validated
// in an isolated worker on upload, so their headers are read in-process.
#include <dicomd/cpp/names.hpp>
#include <dicomd/cpp/plugin.hpp>
#include <dicomd/services/metadata_v1.h>
#include <dicomd/services/storage_v1.h>

#include <array>

#include "metadata.h"

namespace {

using dicomd::metadata::TagsResult;

std::string quoted(std::string_view s) {
  std::string out = "\"";
  out += dicomd::json_escape(s);
  out += '"';
  return out;
}

class MetadataGdcmPlugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "metadata-gdcm";
  static constexpr const char* kVersion = "0.2.0";
  static constexpr const char* kDescription = "DICOM tags as JSON, read with GDCM";
  static constexpr std::array kProvides{dicomd_service_ref{DICOMD_METADATA_SERVICE, 1, 0}};
  static constexpr std::array kRequires{dicomd_service_ref{DICOMD_STORAGE_SERVICE, 1, 0}};
  static constexpr auto routes() {
    return std::array{
        dicomd_route{"GET", "/files/:study/:file/tag", dicomd::route<&MetadataGdcmPlugin::tag_route>},
        dicomd_route{"GET", "/files/:study/:file/tags", dicomd::route<&MetadataGdcmPlugin::tags_route>},
    };
  }

  MetadataGdcmPlugin(dicomd::Host host, std::string_view) : Plugin(host) {
    storage_ = host.acquire<dicomd_storage_v1>(DICOMD_STORAGE_SERVICE, 1);
    if (!storage_) throw std::runtime_error("no storage service");
    metadata_.self = this;
    host.provide(DICOMD_METADATA_SERVICE, 1, &metadata_);
  }

  // GET /files/:study/:file/tag?tag=…&tag=…
  void tag_route(const dicomd::Request& req, dicomd::Response& res) {
    auto [study, file] = names(req);
    std::vector<std::string> specs;
    bool any = false;
    for (auto v : req.query_all("tag")) {
      specs.emplace_back(v);
      any = any || !v.empty();
    }
    TagsResult r = describe(study, file, specs, !any);
    if (!any) throw dicomd::HttpError(400, "tag query parameter is empty");
    if (r.status == TagsResult::Status::kInvalidTags) {
      std::string list;
      for (const auto& s : r.invalid_specs) {
        if (!list.empty()) list += ',';
        list += quoted(s);
      }
      res.json(400, "{\"invalidTags\":[" + list + "],\"success\":false}");
      return;
    }
    respond(res, study, file, r);
  }

  // GET /files/:study/:file/tags
  void tags_route(const dicomd::Request& req, dicomd::Response& res) {
    auto [study, file] = names(req);
    respond(res, study, file, describe(study, file, {}, false));
  }

 private:
  static std::pair<std::string_view, std::string_view> names(const dicomd::Request& req) {
    std::string_view study = req.param("study").value_or(""), file = req.param("file").value_or("");
    if (!dicomd::is_valid_name(study)) throw dicomd::HttpError(400, "invalid study name");
    if (!dicomd::is_valid_name(file)) throw dicomd::HttpError(400, "invalid file name");
    return {study, file};
  }

  // Reads the stored file (404 if absent). With `existence_only`, only checks
  // that the file exists.
  TagsResult describe(std::string_view study, std::string_view file, const std::vector<std::string>& specs,
                      bool existence_only) const {
    struct Ctx {
      const std::vector<std::string>* specs;
      bool existence_only;
      TagsResult result;
      std::exception_ptr error;
    } ctx{&specs, existence_only, {}, nullptr};
    auto consume = [](void* c, dicomd_str bytes) {
      auto* x = static_cast<Ctx*>(c);
      if (x->existence_only) return;
      try {
        x->result = dicomd::metadata::describe_tags(dicomd::view(bytes), *x->specs);
      } catch (...) {
        x->error = std::current_exception();
      }
    };
    dicomd_status s = storage_->read(storage_->self, dicomd::str(study), dicomd::str(file), consume, &ctx);
    if (s == DICOMD_E_NOT_FOUND || s == DICOMD_E_INVALID) throw dicomd::HttpError(404, "file not found");
    if (s != DICOMD_OK) throw std::runtime_error("storage read failed with status " + std::to_string(s));
    if (ctx.error) std::rethrow_exception(ctx.error);
    if (!existence_only && ctx.result.status == TagsResult::Status::kUnreadable)
      throw dicomd::HttpError(422, "the stored file cannot be read as DICOM");
    return std::move(ctx.result);
  }

  static void respond(dicomd::Response& res, std::string_view study, std::string_view file, const TagsResult& r) {
    res.json(200, "{\"file\":" + quoted(file) + ",\"study\":" + quoted(study) + ",\"success\":true,\"tags\":" + r.json +
                      "}");
  }

  static dicomd_status describe_vtable(void* self, dicomd_str study, dicomd_str file, const dicomd_str* tags,
                                       size_t count, dicomd_sink json) {
    auto* p = static_cast<MetadataGdcmPlugin*>(self);
    try {
      std::vector<std::string> specs;
      for (size_t i = 0; i < count; ++i) specs.emplace_back(dicomd::view(tags[i]));
      TagsResult r = p->describe(dicomd::view(study), dicomd::view(file), specs, false);
      if (r.status == TagsResult::Status::kInvalidTags) {
        std::string list = "[";
        for (const auto& s : r.invalid_specs) {
          if (list.size() > 1) list += ',';
          list += quoted(s);
        }
        list += "]";
        json.write(json.ctx, list.data(), list.size());
        return DICOMD_E_INVALID;
      }
      json.write(json.ctx, r.json.data(), r.json.size());
      return DICOMD_OK;
    } catch (const dicomd::HttpError& e) {
      return e.status == 404 ? DICOMD_E_NOT_FOUND : DICOMD_E_UNSUPPORTED;
    } catch (const std::exception& e) {
      p->host().error(e.what());
      return DICOMD_E_INTERNAL;
    }
  }

  const dicomd_storage_v1* storage_ = nullptr;
  dicomd_metadata_v1 metadata_{sizeof(dicomd_metadata_v1), nullptr, &describe_vtable};
};

}  // namespace

DICOMD_PLUGIN(MetadataGdcmPlugin)
