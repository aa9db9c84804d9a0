// metadata-gdcm: tags of stored files as JSON. A stored file's header is
// parsed in an isolated worker (the data folder may hold bytes no validator
// saw, and Debian's GDCM aborts on some), once: parsed headers are cached: a lookup whose file is cached is answered on
// the I/O thread (a quick route) with a map search, and no stat while
// nothing was removed from the store since the header was cached.
#include <dicomd/cpp/config.hpp>
#include <dicomd/cpp/json.hpp>
#include <dicomd/cpp/names.hpp>
#include <dicomd/cpp/plugin.hpp>

#include <algorithm>
#include <array>
#include <cstring>

#include "header_cache.h"
#include "read_at.h"
#include "metadata.h"

namespace {

using dicomd::metadata::FileVersion;
using dicomd::metadata::HeaderCache;
using dicomd::metadata::ParsedHeader;
using dicomd::metadata::TagsResult;

constexpr std::string_view kParseJob = "parse";
// The first bytes of a larger file, after its size (8 bytes, host order):
// a CT slice's header fits in a few KiB, so its 512 KiB of pixels need not
// cross the worker's pipe. The whole file follows when they are not enough.
constexpr std::string_view kParseStartJob = "parse-start";
constexpr size_t kStartBytes = 64 << 10;
// What the start holds past the pixel data's tag: its VR and length, and a
// margin (GDCM stops on reading the tag; a test cuts every pydicom file).
constexpr size_t kPastPixelDataTag = 12 + 16;
constexpr uint64_t kDefaultCacheMb = 64;
constexpr uint64_t kDefaultMaxReplyMb = 64;
// Distinct ?tag= values one request may ask for (a tag repeated 200 times
// once made a 210 MB reply).
constexpr size_t kMaxTagsPerRequest = 512;
// A reply larger than this, or asking for more tags, is built on a request
// thread: on the I/O thread it would stall every other client of it.
constexpr size_t kQuickReplyBytes = 256 << 10;
constexpr size_t kQuickTags = 32;
constexpr uint64_t kNoRemovalCount = UINT64_MAX;

struct Settings {
  size_t cache_bytes;      // parsed headers kept; 0 turns the cache off
  size_t max_reply_bytes;  // the largest /tags reply
};

// {"header_cache_mb": N, "max_reply_mb": N}
Settings settings_from(std::string_view json) {
  dicomd::PluginConfig config(json);
  uint64_t cache_mb = kDefaultCacheMb, reply_mb = kDefaultMaxReplyMb;
  config.get_uint("header_cache_mb", cache_mb, 0, 65536);
  config.get_uint("max_reply_mb", reply_mb, 1, 4096);
  config.finish();
  return {static_cast<size_t>(cache_mb) << 20, static_cast<size_t>(reply_mb) << 20};
}

// ["a","b"]: the invalid tag spellings, as a JSON array.
// The spellings a client sent, as a JSON list: bytes that are not UTF-8
// become U+FFFD, so that the answer stays JSON.
std::string json_list(const std::vector<std::string>& items) {
  dicomd::JsonWriter w;
  w.start_array();
  for (const auto& item : items) w.string(dicomd::to_valid_utf8(item));
  w.end_array();
  return std::string(w.text());
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
  static constexpr auto route_docs() {
    return std::array<const char*, 2>{
        R"json({"summary": "Chosen tags of a file",
            "parameters": [{"name": "tag", "in": "query", "required": true, "style": "form", "explode": true,
                            "description": "repeats; (0028,0010), 0028,0010, 00280010 or a keyword (Rows)",
                            "schema": {"type": "array", "items": {"type": "string"}}}],
            "responses": {"200": {"description": "each tag's VR, name and value",
                                  "content": {"application/json": {"schema": {"type": "object"}}}},
                          "400": {"description": "no tag, or a tag spelling that is not one",
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                          "404": {"description": "file not found"},
                          "422": {"description": "the stored file is not DICOM"}}})json",
        R"json({"summary": "Every top-level tag of a file, pixel data's length but not its value",
            "responses": {"200": {"description": "file meta information first",
                                  "content": {"application/json": {"schema": {"type": "object"}}}},
                          "404": {"description": "file not found"},
                          "422": {"description": "not DICOM, or its tags take more than max_reply_mb"}}})json",
    };
  }
  static constexpr auto route_flags() { return std::array<uint32_t, 2>{DICOMD_ROUTE_QUICK, DICOMD_ROUTE_QUICK}; }

  MetadataGdcmPlugin(dicomd::Host host, std::string_view config)
      : Plugin(host),
        storage_(host.acquire<dicomd_storage_v1>(DICOMD_STORAGE_SERVICE, 1)),
        settings_(settings_from(config)),
        cache_(settings_.cache_bytes),
        cache_lookups_(host.counter("dicomd_metadata_header_cache_total",
                                    "Header lookups, by result: hit (answered from memory) or miss (parsed).",
                                    "result")) {
    if (!storage_) throw std::runtime_error("no storage service");
    host.provide(DICOMD_METADATA_SERVICE, 1, &metadata_);
  }

  static void check_config(std::string_view json) { settings_from(json); }

  // Runs in a worker process: the file's parsed header, serialized. Stored
  // files were validated, but the folder may hold bytes that were not (a
  // restore, a copy, another tool's bucket), and Debian's GDCM aborts the
  // process on some: a cache miss pays one trip to a worker instead.
  // A parse-start job that cannot tell from the start answers UNSUPPORTED.
  static dicomd_status isolated_job(std::string_view kind, std::string_view input, dicomd_sink out) {
    std::shared_ptr<const ParsedHeader> header;
    if (kind == kParseJob) {
      header = dicomd::metadata::parse_header(input);
      if (!header) return DICOMD_E_INVALID;
    } else if (kind == kParseStartJob) {
      uint64_t file_size = 0;
      if (input.size() < sizeof file_size) return DICOMD_E_INVALID;
      std::memcpy(&file_size, input.data(), sizeof file_size);
      header = dicomd::metadata::parse_header_start(input.substr(sizeof file_size), file_size);
      if (!header) return DICOMD_E_UNSUPPORTED;
    } else {
      return DICOMD_E_INVALID;
    }
    std::string bytes = header->serialize();
    out.write(out.ctx, bytes.data(), bytes.size());
    return DICOMD_OK;
  }

  // GET /files/:study/:file/tag?tag=…&tag=…
  void tag_route(const dicomd::Request& req, dicomd::Response& res) {
    auto [study, file] = names(req);
    std::vector<std::string_view> values = req.query_all("tag");
    // Many tags are answered on a request thread (below); there, not on the
    // I/O thread, the distinct ones are picked out.
    if (values.size() > kQuickTags && !req.may_block()) throw dicomd::WouldBlock{};
    std::vector<std::string> specs;
    bool any = false;
    for (auto v : values) {
      if (std::find(specs.begin(), specs.end(), v) == specs.end()) specs.emplace_back(v);
      any = any || !v.empty();
    }
    if (!any) {
      version_of(study, file);  // 404 first, as the original service did
      throw dicomd::HttpError(400, "tag query parameter is empty");
    }
    if (specs.size() > kMaxTagsPerRequest)
      throw dicomd::HttpError(400, "at most " + std::to_string(kMaxTagsPerRequest) + " tags per request");
    auto header = header_of(study, file, req.may_block());
    if (!req.may_block() && (specs.size() > kQuickTags || header->memory_bytes() > kQuickReplyBytes))
      throw dicomd::WouldBlock{};
    TagsResult r = describe_tags(*header, specs);
    if (r.status == TagsResult::Status::kInvalidTags) {
      res.json(400, "{\"invalidTags\":" + json_list(r.invalid_specs) + ",\"success\":false}");
      return;
    }
    respond(res, study, file, r);
  }

  // GET /files/:study/:file/tags
  void tags_route(const dicomd::Request& req, dicomd::Response& res) {
    auto [study, file] = names(req);
    auto header = header_of(study, file, req.may_block());
    if (header->memory_bytes() > settings_.max_reply_bytes)
      throw dicomd::HttpError(422, "the tags of this file take more than " +
                                       std::to_string(settings_.max_reply_bytes >> 20) +
                                       " MiB: ask for the ones needed with /tag");
    if (header->memory_bytes() > kQuickReplyBytes && !req.may_block()) throw dicomd::WouldBlock{};
    respond(res, study, file, describe_tags(*header, {}));
  }

 private:
  static std::pair<std::string_view, std::string_view> names(const dicomd::Request& req) {
    return {req.name_param("study"), req.name_param("file")};
  }

  // The stored file's version: its content hash, or where the store keeps
  // none its size and modification time; 404 if absent.
  FileVersion version_of(std::string_view study, std::string_view file) const {
    std::string hash = storage_.content_hash(study, file);
    if (!hash.empty()) return {0, 0, std::move(hash)};
    auto info = storage_.stat(study, file);
    return {info.size, info.modified_ns, {}};
  }

  // The store's removal count, or kNoRemovalCount from a storage provider
  // built before ABI 1.1 (every lookup then checks the file with a stat).
  uint64_t removal_count() const { return storage_.removal_count().value_or(kNoRemovalCount); }

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
      if (auto cached = cache_.find_unchanged(key, removals)) return hit(cached);
    FileVersion version = version_of(study, file);
    if (auto cached = cache_.find(key, version, removals)) return hit(cached);
    if (!may_block) throw dicomd::WouldBlock{};
    cache_lookups_.add(1, "miss");
    std::shared_ptr<const ParsedHeader> header;
    std::string parsed;
    dicomd_status s = DICOMD_E_INTERNAL;
    if (!storage_.can_read_range() || !parse_start(study, file, s, parsed)) {
      if (auto opened = storage_.open(study, file))
        s = parse_opened(opened->fd.get(), opened->size, parsed);
      else
        storage_.read(study, file, [&](std::string_view bytes) { s = parse_in_worker(bytes, parsed); });
    }
    header = parse_result(s, parsed);
    // Keyed by the version seen before the read: if the file changed in
    // between, the next lookup sees a newer version and reads it again.
    cache_.insert(key, version, removals, header);
    return header;
  }

  std::shared_ptr<const ParsedHeader> hit(std::shared_ptr<const ParsedHeader> header) const {
    cache_lookups_.add(1, "hit");
    return header;
  }

  // How much of a file's start a header parse needs: up to just past the
  // first pixel data tag in the first kStartBytes (little endian, else big
  // endian), else all of them. Those bytes may stand inside an earlier
  // value: then the worker reads past the cut, fails or dies, and the whole
  // file is parsed. Byte search only: the host never parses stored bytes.
  static size_t start_length(std::string_view bytes) {
    std::string_view first = bytes.substr(0, kStartBytes);
    for (std::string_view tag : {std::string_view("\xe0\x7f\x10\x00", 4), std::string_view("\x7f\xe0\x00\x10", 4)}) {
      // memmem, not string_view::find: that compares at every offset.
      const void* at = memmem(first.data(), first.size(), tag.data(), tag.size());
      if (at)
        return std::min(first.size(),
                        static_cast<size_t>(static_cast<const char*>(at) - first.data()) + kPastPixelDataTag);
    }
    return first.size();
  }

  // A stored file's header, parsed in a worker: from the file's start when
  // that is enough, else (or when the worker failed on the cut) from all of it.
  dicomd_status parse_in_worker(std::string_view bytes, std::string& parsed) {
    if (bytes.size() > kStartBytes) {
      std::string input(sizeof(uint64_t), '\0');
      const uint64_t size = bytes.size();
      std::memcpy(input.data(), &size, sizeof size);
      input.append(bytes.substr(0, start_length(bytes)));
      dicomd_status s = host().isolate(kParseStartJob, input, parsed);
      if (s == DICOMD_OK || s == DICOMD_E_UNAVAILABLE) return s;
      parsed.clear();
    }
    return host().isolate(kParseJob, bytes, parsed);
  }

  // The header from the file's first kStartBytes, read alone (ABI 1.7
  // read_range: a ranged GET on storage-s3, where open fetches the whole
  // object). True when that settled it; false when the whole file must be
  // parsed (the start was not enough, or the parse failed on the cut).
  bool parse_start(std::string_view study, std::string_view file, dicomd_status& s, std::string& parsed) {
    std::string input(sizeof(uint64_t), '\0');
    uint64_t size = storage_.read_range(study, file, 0, kStartBytes, [&](std::string_view start) { input += start; });
    if (size <= kStartBytes) {  // the start is the whole file
      s = host().isolate(kParseJob, std::string_view(input).substr(sizeof size), parsed);
      return true;
    }
    input.resize(sizeof size + start_length(std::string_view(input).substr(sizeof size)));
    std::memcpy(input.data(), &size, sizeof size);
    s = host().isolate(kParseStartJob, input, parsed);
    if (s == DICOMD_OK || s == DICOMD_E_UNAVAILABLE) return true;
    parsed.clear();
    return false;
  }

  // The same from an open file, without reading all of it here: its start
  // is read with pread (64 KiB, where a 10 MB radiograph was read whole to
  // send its first kilobytes), and a whole parse maps the file in the
  // worker (isolate_file).
  dicomd_status parse_opened(int fd, uint64_t size, std::string& parsed) {
    if (size > kStartBytes) {
      std::string input(sizeof(uint64_t), '\0');
      std::memcpy(input.data(), &size, sizeof size);
      input.resize(sizeof size + kStartBytes);
      if (dicomd::common::read_exactly_at(fd, 0, input.data() + sizeof size, kStartBytes)) {
        input.resize(sizeof size + start_length(std::string_view(input).substr(sizeof size)));
        dicomd_status s = host().isolate(kParseStartJob, input, parsed);
        if (s == DICOMD_OK || s == DICOMD_E_UNAVAILABLE) return s;
        parsed.clear();
      }
    }
    return host().isolate_file(kParseJob, {}, fd, 0, size, parsed);
  }

  // The header a parse job returned, or the HttpError its failure deserves.
  static std::shared_ptr<const ParsedHeader> parse_result(dicomd_status status, std::string_view parsed) {
    switch (status) {
      case DICOMD_OK:
        if (auto header = ParsedHeader::deserialize(parsed)) return header;
        throw std::runtime_error("a parse job returned a malformed header");
      case DICOMD_E_INVALID:
        throw dicomd::HttpError(422, "the stored file cannot be read as DICOM");
      case DICOMD_E_TIMEOUT:
      case DICOMD_E_WORKER_DIED:
        throw dicomd::HttpError(422, "the stored file cannot be read as DICOM (the parser failed on it)");
      case DICOMD_E_UNAVAILABLE:
        throw dicomd::HttpError(503, "the tag readers are busy; retry shortly");
      default:
        throw std::runtime_error("parse job failed with status " + std::to_string(status));
    }
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

  // dicomd.metadata v1.
  dicomd_status describe(dicomd_str study, dicomd_str file, const dicomd_str* tags, size_t count, dicomd_sink json) {
    std::vector<std::string> specs;
    for (size_t i = 0; i < count; ++i) specs.emplace_back(dicomd::view(tags[i]));
    std::string_view st = dicomd::view(study), fi = dicomd::view(file);
    if (!dicomd::is_valid_name(st) || !dicomd::is_valid_name(fi)) return DICOMD_E_NOT_FOUND;
    TagsResult r = describe_tags(*header_of(st, fi, true), specs);
    std::string out = r.status == TagsResult::Status::kInvalidTags ? json_list(r.invalid_specs) : std::move(r.json);
    json.write(json.ctx, out.data(), out.size());
    return r.status == TagsResult::Status::kInvalidTags ? DICOMD_E_INVALID : DICOMD_OK;
  }

  dicomd::Storage storage_;
  Settings settings_;
  HeaderCache cache_;
  dicomd::Metric cache_lookups_;
  dicomd_metadata_v1 metadata_{sizeof(dicomd_metadata_v1), this, dicomd::service<&MetadataGdcmPlugin::describe>};
};

}  // namespace

DICOMD_PLUGIN(MetadataGdcmPlugin)
