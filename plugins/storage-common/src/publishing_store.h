// A BlobStore that announces its changes: after a put, a "stored" event
// {"etag","file","size","study"}; after a removal, a "removed" event
// {"file","study"} per file. The key of both is "study/file", so a
// subscriber sees one file's events in order. Reads pass straight through.
//
// A file's events are published in the order its changes happen: a removal
// and its event run under the file's stripe lock, and a put publishes under
// it only if the file is still there, so a delete racing an upload never
// announces "removed" before the upload's "stored". Both hold `studies_`
// shared; a study's removal holds it exclusively.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>

#include <dicomd/cpp/plugin.hpp>

#include "blob_store.h"
#include "content_hash.h"

namespace dicomd::storage {

class PublishingStore : public BlobStore {
 public:
  using Publish = std::function<void(std::string_view topic, std::string_view key, std::string_view payload)>;
  PublishingStore(BlobStore& inner, Publish publish) : inner_(inner), publish_(std::move(publish)) {}

  StoreStatus put_checked(std::string_view study, std::string_view name, std::string_view bytes,
                          std::string_view uploader, const WrittenCheck& check, std::string& refusal) override;
  StoreStatus open(std::string_view study, std::string_view name, int& fd, ObjectInfo& info) override {
    return inner_.open(study, name, fd, info);
  }
  StoreStatus describe(std::string_view study, std::string_view name, ObjectInfo& info) override {
    return inner_.describe(study, name, info);
  }
  StoreStatus read(std::string_view study, std::string_view name,
                   const std::function<void(std::string_view)>& consume) override {
    return inner_.read(study, name, consume);
  }
  StoreStatus read_range(std::string_view study, std::string_view name, uint64_t offset, uint64_t length,
                         uint64_t& total_size, const std::function<void(std::string_view)>& consume) override {
    return inner_.read_range(study, name, offset, length, total_size, consume);
  }
  StoreStatus stat(std::string_view study, std::string_view name, ObjectInfo& info) override {
    return inner_.stat(study, name, info);
  }
  StoreStatus list_studies(std::vector<std::string>& out) override { return inner_.list_studies(out); }
  StoreStatus list_files(std::string_view study, std::vector<std::string>& out) override {
    return inner_.list_files(study, out);
  }
  StoreStatus remove(std::string_view study, std::string_view name) override;
  StoreStatus remove_study(std::string_view study, size_t& removed_files) override;
  uint64_t removal_count() const override { return inner_.removal_count(); }

  // What went through this store since start, for GET /metrics.
  struct Totals {
    uint64_t files_stored, bytes_stored, files_removed, write_errors;
  };
  Totals totals() const { return {files_stored_, bytes_stored_, files_removed_, write_errors_}; }

 private:
  void removed(std::string_view study, std::string_view name);
  std::mutex& stripe(std::string_view key);

  BlobStore& inner_;
  Publish publish_;
  std::array<std::mutex, 64> stripes_;
  std::shared_mutex studies_;
  std::atomic<uint64_t> files_stored_{0}, bytes_stored_{0}, files_removed_{0}, write_errors_{0};
};

// Sets the storage counters of GET /metrics from the store's totals: pass
// it to Plugin::collect_metrics.
std::function<void()> storage_metrics(const Host& host, const PublishingStore& store);

}  // namespace dicomd::storage
