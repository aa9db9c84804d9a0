#include "s3_blob_store.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <ctime>
#include <random>
#include <thread>

#include <dicomd/cpp/names.hpp>

#include "content_hash.h"
#include "mem_file.h"
#include "s3_xml.h"

namespace dicomd::s3 {
namespace {

constexpr const char* kHashHeader = "x-amz-meta-dicomd-hash";
constexpr const char* kUploaderHeader = "x-amz-meta-dicomd-uploader";
constexpr const char* kClaims = ".dicomd-claims/";

// Where a GET's body goes: an in-memory file, emptied before a retry.
class MemFileSink : public BodySink {
 public:
  explicit MemFileSink(common::MemFile& file) : file_(file) {}
  bool write(std::string_view bytes) override { return file_.append(bytes); }
  bool restart() override { return file_.clear(); }

 private:
  common::MemFile& file_;
};

// The uploader as put stored it (uri_encode); a malformed escape is kept as is.
std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned value = 0;
    const char* hex = s.data() + i + 1;
    if (s[i] == '%' && i + 2 < s.size() && std::from_chars(hex, hex + 2, value, 16).ptr == hex + 2) {
      out += static_cast<char>(value);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

ObjectInfo info_of(const Reply& r) {
  ObjectInfo info;
  if (auto length = r.header("content-length")) info.size = std::strtoull(std::string(*length).c_str(), nullptr, 10);
  if (auto modified = r.header("last-modified")) info.modified_ns = parse_http_time(*modified);
  if (auto hash = r.header(kHashHeader)) info.content_hash = std::string(*hash);
  if (auto uploader = r.header(kUploaderHeader)) info.uploader = percent_decode(*uploader);
  return info;
}

std::string random_token() {
  thread_local std::mt19937_64 random(std::random_device{}());
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(random()),
                static_cast<unsigned long long>(random()));
  return buf;
}

// A Call, positionally (designated initializers that skip members warn).
Call call(const char* method, std::string key, Query query = {}, std::string_view body = {},
          std::vector<std::string> headers = {}, BodySink* sink = nullptr) {
  return Call{method, std::move(key), std::move(query), body, std::move(headers), sink, true};
}

}  // namespace

int64_t parse_http_time(std::string_view text) {
  std::string s(text);
  std::tm tm{};
  const char* end = ::strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end) end = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end) return 0;
  return static_cast<int64_t>(::timegm(&tm)) * 1'000'000'000;
}

S3BlobStore::S3BlobStore(S3Client& client, StoreOptions options, Log warn)
    : client_(client), options_(std::move(options)), warn_(std::move(warn)) {}

std::string S3BlobStore::key_of(std::string_view study, std::string_view name) const {
  std::string key = options_.prefix;
  key.append(study).append("/").append(name);
  return key;
}

void S3BlobStore::warn_throttled(const std::string& kind, const std::string& message) {
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(warn_mutex_);
    auto it = std::find_if(last_warned_.begin(), last_warned_.end(), [&](const auto& e) { return e.first == kind; });
    if (it != last_warned_.end() && now - it->second < std::chrono::seconds(10)) return;
    if (it == last_warned_.end())
      last_warned_.emplace_back(kind, now);
    else
      it->second = now;
  }
  warn_(message);
}

StoreStatus S3BlobStore::failure(const Reply& r, const char* doing) {
  const std::string& endpoint = client_.options().endpoint;
  const std::string& bucket = client_.options().bucket;
  if (r.status == 0) {
    warn_throttled("transport",
                   "cannot reach the object store at " + endpoint + " while " + doing + ": " + r.transport);
    return StoreStatus::kUnavailable;
  }
  std::string code = r.error_code();
  if (r.status == 403) {
    warn_throttled("403", "the object store at " + endpoint + " refused dicomd's credentials (403 " + code +
                              ") while " + doing + "; check access_key_file, secret_key_file and region");
    return StoreStatus::kUnavailable;
  }
  if (r.status == 404 && code == "NoSuchBucket") {
    warn_throttled("bucket", "the bucket \"" + bucket + "\" does not exist at " + endpoint);
    return StoreStatus::kUnavailable;
  }
  if (r.status == 404) return StoreStatus::kNotFound;
  if (r.status == 412) return StoreStatus::kExists;
  warn_throttled(std::to_string(r.status), "the object store at " + endpoint + " answered " + std::to_string(r.status) +
                                               (code.empty() ? "" : " " + code) + " while " + doing);
  return r.status >= 500 ? StoreStatus::kUnavailable : StoreStatus::kIoError;
}

std::string S3BlobStore::check_bucket() {
  Reply r = client_.perform(call("GET", "", {{"list-type", "2"}, {"max-keys", "1"}}));
  if (r.ok() && r.body.find("<ListBucketResult") != std::string::npos) return "";
  if (r.ok()) return "the object store at " + client_.options().endpoint + " did not answer as S3 does";
  if (r.status == 0) return "cannot reach the object store at " + client_.options().endpoint + ": " + r.transport;
  std::string code = r.error_code();
  if (r.status == 403)
    return "the object store refused dicomd's credentials (403 " + code +
           "): check access_key_file, secret_key_file and region";
  if (r.status == 404) return "the bucket \"" + client_.options().bucket + "\" does not exist";
  return "the object store answered " + std::to_string(r.status) + " " + code + " to a listing of the bucket";
}

StoreStatus S3BlobStore::put_checked(std::string_view study, std::string_view name, std::string_view bytes,
                                     std::string_view uploader, const WrittenCheck& check, std::string& refusal) {
  if (!is_valid_name(study) || !is_valid_name(name)) return StoreStatus::kInvalidName;
  if (check) {
    // The validator reads a descriptor: the bytes go to an in-memory file
    // (no disk), and the object store gets them only once accepted.
    common::MemFile file("dicomd-upload");
    if (!file.ok() || !file.append(bytes) || !file.seal()) return StoreStatus::kIoError;
    if (auto reason = check(file.get(), bytes.size())) {
      refusal = *reason;
      return StoreStatus::kRefused;
    }
  }
  std::vector<std::string> headers{"Content-Type: application/dicom",
                                   std::string(kHashHeader) + ": " + storage::content_hash_of(bytes)};
  if (!uploader.empty()) headers.push_back(std::string(kUploaderHeader) + ": " + uri_encode(uploader, false));
  if (options_.guard == CreateGuard::kClaim) return claimed_put(study, name, bytes, headers);
  headers.push_back("If-None-Match: *");
  std::string key = key_of(study, name);
  StoreStatus s = upload(key, bytes, headers);
  if (s == StoreStatus::kExists) {
    // A retried PUT may meet the object its own first attempt stored.
    ObjectInfo info;
    if (stat(study, name, info) == StoreStatus::kOk && info.content_hash == storage::content_hash_of(bytes) &&
        info.size == bytes.size())
      return StoreStatus::kOk;
  }
  return s;
}

StoreStatus S3BlobStore::claimed_put(std::string_view study, std::string_view name, std::string_view bytes,
                                     const std::vector<std::string>& headers) {
  std::string claims = options_.prefix + kClaims + std::string(study) + "/" + std::string(name) + "/";
  std::string own = random_token();
  std::string key = key_of(study, name);
  thread_local std::minstd_rand jitter(std::random_device{}());
  for (int round = 0; round < 6; ++round) {
    Reply claimed = client_.perform(call("PUT", claims + own));
    if (!claimed.ok()) return failure(claimed, "claiming a name");
    std::vector<std::string> keys, modified;
    StoreStatus listed = list(claims, false, keys, &modified);
    // Alone: its own claim listed (a listing that misses it proves
    // nothing), and no other live one.
    bool alone = listed == StoreStatus::kOk && std::find(keys.begin(), keys.end(), own) != keys.end();
    auto now = std::chrono::system_clock::now().time_since_epoch();
    for (size_t i = 0; alone && i < keys.size(); ++i) {
      if (keys[i] == own) continue;
      auto age = std::chrono::nanoseconds(now) - std::chrono::nanoseconds(parse_http_time(modified[i]));
      if (age > options_.claim_ttl)
        client_.perform(call("DELETE", claims + keys[i]));  // its writer died
      else
        alone = false;
    }
    StoreStatus result = listed;
    if (alone) {
      ObjectInfo existing;
      result = stat(study, name, existing);
      if (result == StoreStatus::kOk)
        result = StoreStatus::kExists;
      else if (result == StoreStatus::kNotFound)
        result = settle_failed_upload(study, name, bytes, upload(key, bytes, headers));
    }
    client_.perform(call("DELETE", claims + own));
    if (alone || listed != StoreStatus::kOk) return result;
    // Another writer claims the name too: both step back and try again.
    std::this_thread::sleep_for(std::chrono::milliseconds(10 + jitter() % (40 * (round + 1))));
  }
  return StoreStatus::kExists;  // another writer holds the name
}

// After an upload that failed, with the name claimed (no other writer):
// an object there is this writer's. Whole (the answer was lost on the
// way back): stored after all. Anything else (a store that keeps what a
// cut connection sent): removed, so nothing half-written stays visible.
StoreStatus S3BlobStore::settle_failed_upload(std::string_view study, std::string_view name, std::string_view bytes,
                                              StoreStatus failed) {
  if (failed == StoreStatus::kOk || failed == StoreStatus::kExists) return failed;
  ObjectInfo info;
  if (stat(study, name, info) != StoreStatus::kOk) return failed;
  if (info.size == bytes.size() && info.content_hash == storage::content_hash_of(bytes)) return StoreStatus::kOk;
  client_.perform(call("DELETE", key_of(study, name)));
  return failed;
}

StoreStatus S3BlobStore::upload(const std::string& key, std::string_view bytes,
                                const std::vector<std::string>& headers) {
  if (bytes.size() > options_.multipart_threshold) return upload_in_parts(key, bytes, headers);
  Reply r = client_.perform(call("PUT", key, {}, bytes, headers));
  return r.ok() ? StoreStatus::kOk : failure(r, "storing an object");
}

StoreStatus S3BlobStore::upload_in_parts(const std::string& key, std::string_view bytes,
                                         const std::vector<std::string>& headers) {
  std::vector<std::string> create_headers, complete_headers{"Content-Type: application/xml"};
  for (const auto& h : headers) (h.starts_with("If-None-Match") ? complete_headers : create_headers).push_back(h);
  Reply created = client_.perform(call("POST", key, {{"uploads", ""}}, {}, create_headers));
  if (!created.ok()) return failure(created, "starting a multipart upload");
  auto upload_id = xml_text(created.body, "UploadId");
  if (!upload_id || upload_id->empty()) {
    warn_throttled("xml", "the object store's answer to a multipart upload has no UploadId");
    return StoreStatus::kIoError;
  }
  auto abort = [&](StoreStatus s) {
    client_.perform(call("DELETE", key, {{"uploadId", *upload_id}}));
    return s;
  };
  std::string complete = "<CompleteMultipartUpload>";
  size_t part = 0;
  for (size_t offset = 0; offset < bytes.size(); offset += options_.part_size) {
    std::string number = std::to_string(++part);
    Reply r = client_.perform(
        call("PUT", key, {{"partNumber", number}, {"uploadId", *upload_id}}, bytes.substr(offset, options_.part_size)));
    auto etag = r.header("etag");
    if (!r.ok() || !etag) return abort(r.ok() ? StoreStatus::kIoError : failure(r, "storing a part"));
    complete += "<Part><PartNumber>" + number + "</PartNumber><ETag>" + xml_escape(*etag) + "</ETag></Part>";
  }
  complete += "</CompleteMultipartUpload>";
  Reply done = client_.perform(call("POST", key, {{"uploadId", *upload_id}}, complete, complete_headers));
  // S3 may answer 200 with an <Error> body when completing.
  if (done.ok() && done.body.find("<Error>") == std::string::npos) return StoreStatus::kOk;
  return abort(done.ok() ? StoreStatus::kIoError : failure(done, "completing a multipart upload"));
}

StoreStatus S3BlobStore::read(std::string_view study, std::string_view name,
                              const std::function<void(std::string_view)>& consume) {
  Reply r = client_.perform(call("GET", key_of(study, name)));
  if (!r.ok()) return failure(r, "reading an object");
  consume(r.body);
  return StoreStatus::kOk;
}

// One ranged GET. 206 names the object's size in Content-Range; 416 is an
// offset past the end; a store that ignores Range answers 200 with it all.
StoreStatus S3BlobStore::read_range(std::string_view study, std::string_view name, uint64_t offset, uint64_t length,
                                    uint64_t& total_size, const std::function<void(std::string_view)>& consume) {
  if (length == 0) {
    ObjectInfo info;
    StoreStatus s = stat(study, name, info);
    total_size = info.size;
    if (s == StoreStatus::kOk) consume(std::string_view());
    return s;
  }
  std::string range = "Range: bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1);
  Reply r = client_.perform(call("GET", key_of(study, name), {}, {}, {range}));
  auto size_in = [&](std::string_view content_range) {  // "bytes 0-99/1234" or "bytes */1234"
    size_t slash = content_range.rfind('/');
    return slash == std::string_view::npos
               ? 0
               : std::strtoull(std::string(content_range.substr(slash + 1)).c_str(), nullptr, 10);
  };
  if (r.status == 416) {  // past the end: the size from Content-Range, else (not every store sends it) a HEAD
    auto content_range = r.header("content-range");
    ObjectInfo info;
    if (content_range) {
      total_size = size_in(*content_range);
    } else if (StoreStatus s = stat(study, name, info); s == StoreStatus::kOk) {
      total_size = info.size;
    } else {
      return s;
    }
    consume(std::string_view());
    return StoreStatus::kOk;
  }
  if (!r.ok()) return failure(r, "reading part of an object");
  std::string_view body = r.body;
  if (r.status == 206) {
    total_size = size_in(r.header("content-range").value_or(""));
  } else {
    total_size = body.size();
    body = offset < body.size() ? body.substr(offset, length) : std::string_view();
  }
  consume(body.substr(0, length));
  return StoreStatus::kOk;
}

StoreStatus S3BlobStore::stat(std::string_view study, std::string_view name, ObjectInfo& info) {
  Reply r = client_.perform(call("HEAD", key_of(study, name)));
  if (!r.ok()) return failure(r, "looking up an object");
  info = info_of(r);
  return StoreStatus::kOk;
}

StoreStatus S3BlobStore::open(std::string_view study, std::string_view name, int& fd, ObjectInfo& info) {
  common::MemFile file("dicomd-s3-object");
  if (!file.ok()) return StoreStatus::kIoError;
  MemFileSink sink(file);
  Reply r = client_.perform(call("GET", key_of(study, name), {}, {}, {}, &sink));
  if (!r.ok()) return failure(r, "reading an object");
  info = info_of(r);
  if (!file.seal()) return StoreStatus::kIoError;
  fd = file.release();
  return StoreStatus::kOk;
}

StoreStatus S3BlobStore::list(const std::string& prefix, bool delimit, std::vector<std::string>& keys,
                              std::vector<std::string>* last_modified) {
  std::string token;
  do {
    Query query{{"list-type", "2"}, {"max-keys", std::to_string(options_.page_size)}, {"prefix", prefix}};
    if (delimit) query.emplace_back("delimiter", "/");
    if (!token.empty()) query.emplace_back("continuation-token", token);
    Reply r = client_.perform(call("GET", "", query));
    if (!r.ok()) return failure(r, "listing objects");
    if (r.body.find("<ListBucketResult") == std::string::npos) {
      warn_throttled("xml", "the object store answered a listing with something that is not S3's XML");
      return StoreStatus::kIoError;
    }
    auto take = [&](std::string_view inner, std::string_view tag) {
      auto text = xml_text(inner, tag);
      if (!text || !text->starts_with(prefix) || text->size() == prefix.size()) return false;
      keys.push_back(text->substr(prefix.size()));
      return true;
    };
    for (auto contents : xml_elements(r.body, "Contents"))
      if (take(contents, "Key") && last_modified)
        last_modified->push_back(xml_text(contents, "LastModified").value_or(""));
    for (auto common : xml_elements(r.body, "CommonPrefixes")) take(common, "Prefix");
    bool truncated = xml_text(r.body, "IsTruncated").value_or("false") == "true";
    token = truncated ? xml_text(r.body, "NextContinuationToken").value_or("") : "";
    if (truncated && token.empty()) {
      warn_throttled("xml", "the object store's truncated listing has no NextContinuationToken");
      return StoreStatus::kIoError;
    }
  } while (!token.empty());
  return StoreStatus::kOk;
}

StoreStatus S3BlobStore::list_studies(std::vector<std::string>& out) {
  std::vector<std::string> found;
  StoreStatus s = list(options_.prefix, true, found);
  if (s != StoreStatus::kOk) return s;
  for (auto& f : found) {
    if (!f.ends_with('/')) continue;  // an object right under the prefix is not a study
    f.pop_back();
    if (is_valid_name(f)) out.push_back(std::move(f));  // not the claims
  }
  std::sort(out.begin(), out.end());
  return StoreStatus::kOk;
}

StoreStatus S3BlobStore::list_files(std::string_view study, std::vector<std::string>& out) {
  if (!is_valid_name(study)) return StoreStatus::kNotFound;
  std::vector<std::string> found;
  StoreStatus s = list(options_.prefix + std::string(study) + "/", true, found);
  if (s != StoreStatus::kOk) return s;
  for (auto& f : found)
    if (is_valid_name(f)) out.push_back(std::move(f));
  if (out.empty()) return StoreStatus::kNotFound;
  std::sort(out.begin(), out.end());
  return StoreStatus::kOk;
}

StoreStatus S3BlobStore::remove(std::string_view study, std::string_view name) {
  ObjectInfo info;
  if (StoreStatus s = stat(study, name, info); s != StoreStatus::kOk) return s;
  Reply r = client_.perform(call("DELETE", key_of(study, name)));
  if (!r.ok()) return failure(r, "deleting an object");
  ++removals_;
  return StoreStatus::kOk;
}

StoreStatus S3BlobStore::remove_study(std::string_view study, size_t& removed_files) {
  std::vector<std::string> files;
  if (StoreStatus s = list_files(study, files); s != StoreStatus::kOk) return s;
  for (const auto& f : files) {
    StoreStatus s = remove(study, f);
    if (s == StoreStatus::kNotFound) continue;  // removed meanwhile by another request
    if (s != StoreStatus::kOk) return s;
    ++removed_files;
  }
  return StoreStatus::kOk;
}

}  // namespace dicomd::s3
