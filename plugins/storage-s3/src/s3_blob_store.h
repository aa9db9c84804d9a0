// BlobStore on an S3 bucket: the object PREFIX<study>/<file>, with the
// content hash and the uploader in its metadata (x-amz-meta-dicomd-hash,
// x-amz-meta-dicomd-uploader). A put never replaces an object, also when
// two hosts race for one name (create_guard below); an object is visible
// only once complete (a PUT, or a multipart upload's completion).
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "blob_store.h"
#include "s3_client.h"

namespace dicomd::s3 {

using storage::ObjectInfo;
using storage::StoreStatus;
using storage::WrittenCheck;

// How a put makes sure it creates, never replaces:
// - kIfNoneMatch: the PUT (or the multipart completion) carries
//   "If-None-Match: *" and the store answers 412 when the name is taken
//   (AWS S3 since 2024, MinIO, Ceph RGW, Garage...);
// - kClaim, for stores that ignore that header: each put first writes a
//   claim object under PREFIX.dicomd-claims/<study>/<file>/ and lists the
//   claims; it goes on only when its own is the one listed (strong
//   list-after-write consistency makes at most one writer see that), then
//   checks that the object does not exist yet. Claims of a writer that died
//   expire after claim_ttl.
enum class CreateGuard { kIfNoneMatch, kClaim };

struct StoreOptions {
  std::string prefix;  // "" or ending in '/'
  CreateGuard guard = CreateGuard::kClaim;
  uint64_t multipart_threshold = 64ull << 20;  // bytes; larger puts go in parts
  uint64_t part_size = 16ull << 20;
  std::chrono::seconds claim_ttl{600};
  unsigned page_size = 1000;  // keys per listing request (S3's maximum)
};

class S3BlobStore : public storage::BlobStore {
 public:
  using Log = std::function<void(const std::string&)>;
  // `warn` receives the store's failures (throttled: one line per kind
  // each 10 s), never a credential.
  S3BlobStore(S3Client& client, StoreOptions options, Log warn);

  // Whether the bucket can be used with these credentials; the reason why
  // not otherwise ("" when it can).
  std::string check_bucket();

  StoreStatus put_checked(std::string_view study, std::string_view name, std::string_view bytes,
                          std::string_view uploader, const WrittenCheck& check, std::string& refusal) override;
  StoreStatus read(std::string_view study, std::string_view name,
                   const std::function<void(std::string_view)>& consume) override;
  StoreStatus read_range(std::string_view study, std::string_view name, uint64_t offset, uint64_t length,
                         uint64_t& total_size, const std::function<void(std::string_view)>& consume) override;
  StoreStatus stat(std::string_view study, std::string_view name, ObjectInfo& info) override;
  StoreStatus open(std::string_view study, std::string_view name, int& fd, ObjectInfo& info) override;
  // A HEAD: the object's metadata holds the uploader.
  StoreStatus describe(std::string_view study, std::string_view name, ObjectInfo& info) override {
    return stat(study, name, info);
  }
  StoreStatus list_studies(std::vector<std::string>& out) override;
  StoreStatus list_files(std::string_view study, std::vector<std::string>& out) override;
  StoreStatus remove(std::string_view study, std::string_view name) override;
  StoreStatus remove_study(std::string_view study, size_t& removed_files) override;
  uint64_t removal_count() const override { return removals_.load(); }

 private:
  std::string key_of(std::string_view study, std::string_view name) const;
  // The status for a failed reply, logging why (throttled).
  StoreStatus failure(const Reply& r, const char* doing);
  StoreStatus upload(const std::string& key, std::string_view bytes, const std::vector<std::string>& headers);
  StoreStatus upload_in_parts(const std::string& key, std::string_view bytes, const std::vector<std::string>& headers);
  StoreStatus settle_failed_upload(std::string_view study, std::string_view name, std::string_view bytes,
                                   StoreStatus failed);
  StoreStatus claimed_put(std::string_view study, std::string_view name, std::string_view bytes,
                          const std::vector<std::string>& headers);
  // Keys (after `prefix`) and common prefixes under `prefix`, all pages.
  StoreStatus list(const std::string& prefix, bool delimit, std::vector<std::string>& keys,
                   std::vector<std::string>* last_modified = nullptr);
  void warn_throttled(const std::string& kind, const std::string& message);

  S3Client& client_;
  StoreOptions options_;
  Log warn_;
  std::atomic<uint64_t> removals_{0};
  std::mutex warn_mutex_;
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> last_warned_;
};

// "Wed, 12 Oct 2009 17:50:00 GMT" (RFC 7231) or "2009-10-12T17:50:00.000Z"
// (ISO 8601, in listings) as ns since the epoch; 0 when malformed.
int64_t parse_http_time(std::string_view text);

}  // namespace dicomd::s3
