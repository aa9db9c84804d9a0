// dicomd.storage v1 on a BlobStore: what storage-fs and storage-s3 provide
// to the other plugins (metadata, render, index), the same way for both.
// Reads and writes open a span of the request's trace; an I/O failure is
// marked on it without names or paths.
#pragma once

#include <dicomd/cpp/plugin.hpp>
#include <dicomd/services/storage_v1.h>

#include "blob_store.h"

namespace dicomd::storage {

dicomd_status to_status(StoreStatus s);

class StorageService {
 public:
  // `removals_shared`: other hosts remove objects from the same store, so
  // this host's removal count says nothing (removal_count is left NULL and
  // consumers check each object's version instead).
  StorageService(Host host, BlobStore& store, bool removals_shared);
  const dicomd_storage_v1* vtable() const { return &vtable_; }
  // Where a failed call is logged (dicomd::service's exception barrier).
  const Host& host() const { return host_; }

 private:
  template <class Call>
  dicomd_status traced(const char* span_name, const char* what, Call&& call);

  dicomd_status put(dicomd_str study, dicomd_str name, dicomd_str bytes);
  dicomd_status read(dicomd_str study, dicomd_str name, dicomd_bytes_fn consume, void* ctx);
  dicomd_status stat(dicomd_str study, dicomd_str name, dicomd_object_info* info);
  dicomd_status list_studies(dicomd_name_fn each, void* ctx);
  dicomd_status list_files(dicomd_str study, dicomd_name_fn each, void* ctx);
  dicomd_status remove(dicomd_str study, dicomd_str name);
  dicomd_status remove_study(dicomd_str study);
  uint64_t removal_count();
  dicomd_status open(dicomd_str study, dicomd_str name, int32_t* fd, uint64_t* size);
  dicomd_status content_hash(dicomd_str study, dicomd_str name, dicomd_sink hash);
  dicomd_status put_checked(dicomd_str study, dicomd_str name, dicomd_str bytes, dicomd_str uploader,
                            dicomd_written_check_fn check, void* check_ctx, dicomd_sink refusal);
  dicomd_status open_described(dicomd_str study, dicomd_str name, int32_t* fd, dicomd_object_info* info,
                               dicomd_sink hash, dicomd_sink uploader);
  dicomd_status remove_study_counted(dicomd_str study, uint64_t* removed_files);
  dicomd_status read_range(dicomd_str study, dicomd_str name, uint64_t offset, uint64_t length, uint64_t* total_size,
                           dicomd_bytes_fn consume, void* ctx);

  Host host_;
  BlobStore& store_;
  dicomd_storage_v1 vtable_;
};

}  // namespace dicomd::storage
