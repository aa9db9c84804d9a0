#include "publishing_store.h"

#include <cstdio>

#include <dicomd/cpp/json.hpp>

namespace dicomd::storage {
namespace {

std::string key_of(std::string_view study, std::string_view name) {
  std::string key(study);
  key += '/';
  key += name;
  return key;
}

}  // namespace

std::mutex& PublishingStore::stripe(std::string_view key) {
  return stripes_[std::hash<std::string_view>{}(key) % stripes_.size()];
}

StoreStatus PublishingStore::put_checked(std::string_view study, std::string_view name, std::string_view bytes,
                                         std::string_view uploader, const WrittenCheck& check, std::string& refusal) {
  // Not under the lock: uploads of files sharing a stripe must not wait on each other's fsyncs.
  StoreStatus status = inner_.put_checked(study, name, bytes, uploader, check, refusal);
  if (status == StoreStatus::kIoError || status == StoreStatus::kUnavailable) ++write_errors_;
  if (status != StoreStatus::kOk) return status;
  ++files_stored_;
  bytes_stored_ += bytes.size();
  std::string key = key_of(study, name);
  std::shared_lock study_lock(studies_);
  std::lock_guard lock(stripe(key));
  ObjectInfo info;
  if (inner_.stat(study, name, info) != StoreStatus::kOk) return status;  // already removed, and announced
  JsonWriter w;
  w.start_object().key("etag").string(etag_of(info)).key("file").string(name);
  w.key("size").uint(info.size).key("study").string(study).end_object();
  publish_("stored", key, w.text());
  return status;
}

StoreStatus PublishingStore::remove(std::string_view study, std::string_view name) {
  std::shared_lock study_lock(studies_);
  std::lock_guard lock(stripe(key_of(study, name)));
  StoreStatus status = inner_.remove(study, name);
  if (status == StoreStatus::kOk) removed(study, name);
  if (status == StoreStatus::kOk) ++files_removed_;
  return status;
}

StoreStatus PublishingStore::remove_study(std::string_view study, size_t& removed_files) {
  // Exclusive: no file's event is being published meanwhile, so the study's
  // files are announced in order with every other change to them. Rare.
  std::unique_lock lock(studies_);
  std::vector<std::string> files;
  inner_.list_files(study, files);
  StoreStatus status = inner_.remove_study(study, removed_files);
  if (status == StoreStatus::kOk)
    for (const auto& name : files) removed(study, name);
  files_removed_ += removed_files;
  return status;
}

void PublishingStore::removed(std::string_view study, std::string_view name) {
  JsonWriter w;
  w.start_object().key("file").string(name).key("study").string(study).end_object();
  publish_("removed", key_of(study, name), w.text());
}

std::function<void()> storage_metrics(const Host& host, const PublishingStore& store) {
  return [&store, stored = host.counter("dicomd_storage_files_stored_total", "Files stored since start."),
          bytes = host.counter("dicomd_storage_bytes_stored_total", "Bytes of files stored since start."),
          removed = host.counter("dicomd_storage_files_removed_total", "Files removed since start."),
          errors = host.counter("dicomd_storage_write_errors_total",
                                "Files not stored for a storage failure (disk full, object store down, ...).")] {
    auto t = store.totals();
    stored.set(static_cast<double>(t.files_stored));
    bytes.set(static_cast<double>(t.bytes_stored));
    removed.set(static_cast<double>(t.files_removed));
    errors.set(static_cast<double>(t.write_errors));
  };
}

}  // namespace dicomd::storage
