// metadata-gdcm: tags of stored files as JSON. Stored files were validated
// in an isolated worker on upload, so their headers are read in-process.
// Parsed headers are cached: a lookup whose file is cached is answered on
// the I/O thread (a quick route) with one stat and a map search.
#include <dicomd/cpp/names.hpp>
#include <dicomd/cpp/plugin.hpp>
#include <dicomd/services/metadata_v1.h>
#include <dicomd/services/storage_v1.h>

#include <array>
#include <cstddef>

#include <rapidjson/document.h>

#include "header_cache.h"
#include "metadata.h"

namespace {

using dicomd::metadata::FileVersion;
using dicomd::metadata::HeaderCache;
using dicomd::metadata::ParsedHeader;
using dicomd::metadata::TagsResult;

constexpr uint64_t kDefaultCacheMb = 64;
constexpr uint64_t kNoRemovalCount = UINT64_MAX;

// {"header_cache_mb": N}: memory for parsed headers; 0 turns the cache off.
size_t cache_bytes_from(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) throw std::runtime_error("config must be a JSON object");
  uint64_t mb = kDefaultCacheMb;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    std::string key = it->name.GetString();
    if (key == "header_cache_mb" && it->value.IsUint64() && it->value.GetUint64() <= 65536)
      mb = it->value.GetUint64();
    else
      throw std::runtime_error("config: unknown or malformed key \"" + key + "\"");
  }
  return static_cast<size_t>(mb) << 20;
}

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
  static constexpr auto route_flags() { return std::array<uint32_t, 2>{DICOMD_ROUTE_QUICK, DICOMD_ROUTE_QUICK}; }

  MetadataGdcmPlugin(dicomd::Host host, std::string_view config) : Plugin(host), cache_(cache_bytes_from(config)) {
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
    if (!any) {
      version_of(study, file);  // 404 first, as the original service did
      throw dicomd::HttpError(400, "tag query parameter is empty");
    }
    TagsResult r = describe_tags(*header_of(study, file, req.may_block()), specs);
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
    respond(res, study, file, describe_tags(*header_of(study, file, req.may_block()), {}));
  }

 private:
  static std::pair<std::string_view, std::string_view> names(const dicomd::Request& req) {
    std::string_view study = req.param("study").value_or(""), file = req.param("file").value_or("");
    if (!dicomd::is_valid_name(study)) throw dicomd::HttpError(400, "invalid study name");
    if (!dicomd::is_valid_name(file)) throw dicomd::HttpError(400, "invalid file name");
    return {study, file};
  }

  // The stored file's size and modification time; 404 if absent.
  FileVersion version_of(std::string_view study, std::string_view file) const {
    dicomd_object_info info{};
    dicomd_status s = storage_->stat(storage_->self, dicomd::str(study), dicomd::str(file), &info);
    if (s == DICOMD_E_NOT_FOUND || s == DICOMD_E_INVALID) throw dicomd::HttpError(404, "file not found");
    if (s != DICOMD_OK) throw std::runtime_error("storage stat failed with status " + std::to_string(s));
    return {info.size, info.modified_ns};
  }

  // The store's removal count, or kNoRemovalCount from a storage provider
  // built before ABI 1.1 (every lookup then checks the file with a stat).
  uint64_t removal_count() const {
    bool has = storage_->struct_size >= offsetof(dicomd_storage_v1, removal_count) + sizeof(storage_->removal_count);
    return has && storage_->removal_count ? storage_->removal_count(storage_->self) : kNoRemovalCount;
  }

  // The parsed header of a stored file (404 if absent): cached, or read and
  // parsed (only where the caller may block; WouldBlock otherwise). 422
  // when the stored bytes are not DICOM. A cached header needs no stat while
  // nothing was removed from the store since it was last checked.
  std::shared_ptr<const ParsedHeader> header_of(std::string_view study, std::string_view file, bool may_block) {
    std::string key(study);
    key += '/';
    key += file;
    uint64_t removals = removal_count();  // before the stat: a removal after it is seen next time
    if (removals != kNoRemovalCount)
      if (auto cached = cache_.find_unchanged(key, removals)) return cached;
    FileVersion version = version_of(study, file);
    if (auto cached = cache_.find(key, version, removals)) return cached;
    if (!may_block) throw dicomd::WouldBlock{};
    struct Ctx {
      std::shared_ptr<const ParsedHeader> header;
      std::exception_ptr error;
    } ctx;
    auto consume = [](void* c, dicomd_str bytes) {
      auto* x = static_cast<Ctx*>(c);
      try {
        x->header = dicomd::metadata::parse_header(dicomd::view(bytes));
      } catch (...) {
        x->error = std::current_exception();
      }
    };
    dicomd_status s = storage_->read(storage_->self, dicomd::str(study), dicomd::str(file), consume, &ctx);
    if (s == DICOMD_E_NOT_FOUND || s == DICOMD_E_INVALID) throw dicomd::HttpError(404, "file not found");
    if (s != DICOMD_OK) throw std::runtime_error("storage read failed with status " + std::to_string(s));
    if (ctx.error) std::rethrow_exception(ctx.error);
    if (!ctx.header) throw dicomd::HttpError(422, "the stored file cannot be read as DICOM");
    // Keyed by the version seen before the read: if the file changed in
    // between, the next lookup sees a newer version and reads it again.
    cache_.insert(key, version, removals, ctx.header);
    return ctx.header;
  }

  static void respond(dicomd::Response& res, std::string_view study, std::string_view file, const TagsResult& r) {
    std::string body;
    body.reserve(64 + file.size() + study.size() + r.json.size());
    body += "{\"file\":\"";
    body += dicomd::json_escape(file);
    body += "\",\"study\":\"";
    body += dicomd::json_escape(study);
    body += "\",\"success\":true,\"tags\":";
    body += r.json;
    body += '}';
    res.json(200, body);
  }

  static dicomd_status describe_vtable(void* self, dicomd_str study, dicomd_str file, const dicomd_str* tags,
                                       size_t count, dicomd_sink json) {
    auto* p = static_cast<MetadataGdcmPlugin*>(self);
    try {
      std::vector<std::string> specs;
      for (size_t i = 0; i < count; ++i) specs.emplace_back(dicomd::view(tags[i]));
      std::string_view st = dicomd::view(study), fi = dicomd::view(file);
      if (!dicomd::is_valid_name(st) || !dicomd::is_valid_name(fi)) return DICOMD_E_NOT_FOUND;
      TagsResult r = describe_tags(*p->header_of(st, fi, true), specs);
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
  HeaderCache cache_;
  dicomd_metadata_v1 metadata_{sizeof(dicomd_metadata_v1), nullptr, &describe_vtable};
};

}  // namespace

DICOMD_PLUGIN(MetadataGdcmPlugin)
