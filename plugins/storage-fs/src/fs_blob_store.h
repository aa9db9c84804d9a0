// BlobStore on a local filesystem: ROOT/<study>/<file>. Writes go to
// ROOT/.tmp, are fsynced, and appear by a rename that never replaces
// (renameat2 RENAME_NOREPLACE). Every path is opened relative to the root
// folder with O_NOFOLLOW: a symlink inside the root is never followed.
#pragma once

#include <atomic>
#include <shared_mutex>
#include <string>

#include "blob_store.h"
#include "content_hash.h"
#include "directory_sync.h"

namespace dicomd::storage {

class FsBlobStore : public BlobStore {
 public:
  // Creates ROOT and ROOT/.tmp if needed and empties ROOT/.tmp (files left
  // by a crash). Throws std::runtime_error when ROOT is unusable.
  // `shared`: other processes store into `root` too, so the temp folder
  // keeps leftovers younger than an hour (they may be uploads in flight).
  FsBlobStore(const std::string& root, bool shared = false);
  ~FsBlobStore() override;
  FsBlobStore(const FsBlobStore&) = delete;
  FsBlobStore& operator=(const FsBlobStore&) = delete;

  StoreStatus put_checked(std::string_view study, std::string_view name, std::string_view bytes,
                          std::string_view uploader, const WrittenCheck& check, std::string& refusal) override;
  StoreStatus open(std::string_view study, std::string_view name, int& fd, ObjectInfo& info) override;
  StoreStatus read(std::string_view study, std::string_view name,
                   const std::function<void(std::string_view)>& consume) override;
  StoreStatus read_range(std::string_view study, std::string_view name, uint64_t offset, uint64_t length,
                         uint64_t& total_size, const std::function<void(std::string_view)>& consume) override;
  StoreStatus stat(std::string_view study, std::string_view name, ObjectInfo& info) override;
  StoreStatus list_studies(std::vector<std::string>& out) override;
  StoreStatus list_files(std::string_view study, std::vector<std::string>& out) override;
  StoreStatus remove(std::string_view study, std::string_view name) override;
  StoreStatus remove_study(std::string_view study, size_t& removed_files) override;
  uint64_t removal_count() const override { return removals_.load(); }
  // Folder fsyncs made for puts (several puts may share one).
  uint64_t folder_fsyncs() const { return directory_sync_.fsync_calls(); }

 private:
  class Temp;
  int open_study(std::string_view study, bool create);
  int open_file(std::string_view study, std::string_view name);
  StoreStatus open_regular(std::string_view study, std::string_view name, int& fd, uint64_t& size);
  std::string temp_name();
  static bool stamp_now(int fd);
  static bool keep_content_hash(int fd, std::string_view bytes);
  static constexpr const char* kHashAttribute = "user.dicomd.xxh3";
  static constexpr const char* kUploaderAttribute = "user.dicomd.uploader";

  int root_fd_ = -1;
  int tmp_fd_ = -1;
  std::atomic<uint64_t> temp_counter_{0};
  std::atomic<uint64_t> removals_{0};
  std::shared_mutex studies_;  // puts shared, remove_study exclusive
  DirectorySync directory_sync_;
};

}  // namespace dicomd::storage
