#include <optional>

#include "storage_service.h"

namespace dicomd::storage {

dicomd_status to_status(StoreStatus s) {
  switch (s) {
    case StoreStatus::kOk:
      return DICOMD_OK;
    case StoreStatus::kNotFound:
      return DICOMD_E_NOT_FOUND;
    case StoreStatus::kExists:
      return DICOMD_E_EXISTS;
    case StoreStatus::kInvalidName:
    case StoreStatus::kRefused:  // (the storage service's put runs no check)
      return DICOMD_E_INVALID;
    case StoreStatus::kIoError:
      return DICOMD_E_IO;
    case StoreStatus::kUnavailable:
      return DICOMD_E_UNAVAILABLE;
  }
  return DICOMD_E_INTERNAL;
}

StorageService::StorageService(Host host, BlobStore& store, bool removals_shared)
    : host_(host),
      store_(store),
      vtable_{
          sizeof(dicomd_storage_v1),
          this,
          service<&StorageService::put>,
          service<&StorageService::read>,
          service<&StorageService::stat>,
          service<&StorageService::list_studies>,
          service<&StorageService::list_files>,
          service<&StorageService::remove>,
          service<&StorageService::remove_study>,
          removals_shared ? nullptr : service<&StorageService::removal_count>,
          service<&StorageService::content_hash>,
          service<&StorageService::open>,
          service<&StorageService::put_checked>,
          service<&StorageService::open_described>,
          service<&StorageService::remove_study_counted>,
          service<&StorageService::read_range>,
      } {}

template <class Call>
dicomd_status StorageService::traced(const char* span_name, const char* what, Call&& call) {
  auto span = host_.span(span_name);
  dicomd_status status = call();
  if (dicomd_is_server_failure(status) || status == DICOMD_E_UNAVAILABLE)
    span.fail(status, std::string("the storage could not ") + what);
  return status;
}

dicomd_status StorageService::put(dicomd_str study, dicomd_str name, dicomd_str bytes) {
  return traced("storage.write", "write a file",
                [&] { return to_status(store_.put(view(study), view(name), view(bytes))); });
}

dicomd_status StorageService::read(dicomd_str study, dicomd_str name, dicomd_bytes_fn consume, void* ctx) {
  return traced("storage.read", "read a file", [&] {
    return to_status(store_.read(view(study), view(name), [&](std::string_view bytes) { consume(ctx, str(bytes)); }));
  });
}

dicomd_status StorageService::stat(dicomd_str study, dicomd_str name, dicomd_object_info* info) {
  ObjectInfo i;
  StoreStatus s = store_.stat(view(study), view(name), i);
  if (s == StoreStatus::kOk) *info = dicomd_object_info{i.size, i.modified_ns};
  return to_status(s);
}

dicomd_status StorageService::list_studies(dicomd_name_fn each, void* ctx) {
  std::vector<std::string> names;
  StoreStatus s = store_.list_studies(names);
  for (const auto& n : names) each(ctx, str(n));
  return to_status(s);
}

dicomd_status StorageService::list_files(dicomd_str study, dicomd_name_fn each, void* ctx) {
  std::vector<std::string> names;
  StoreStatus s = store_.list_files(view(study), names);
  for (const auto& n : names) each(ctx, str(n));
  return to_status(s);
}

dicomd_status StorageService::remove(dicomd_str study, dicomd_str name) {
  return to_status(store_.remove(view(study), view(name)));
}

dicomd_status StorageService::remove_study(dicomd_str study) {
  size_t removed = 0;
  return to_status(store_.remove_study(view(study), removed));
}

uint64_t StorageService::removal_count() {
  return store_.removal_count();
}

dicomd_status StorageService::open(dicomd_str study, dicomd_str name, int32_t* fd, uint64_t* size) {
  return traced("storage.open", "open a file", [&] {
    ObjectInfo i;
    int opened = -1;
    StoreStatus s = store_.open(view(study), view(name), opened, i);
    if (s == StoreStatus::kOk) {
      *fd = opened;
      *size = i.size;
    }
    return to_status(s);
  });
}

dicomd_status StorageService::content_hash(dicomd_str study, dicomd_str name, dicomd_sink hash) {
  ObjectInfo i;
  StoreStatus s = store_.stat(view(study), view(name), i);
  if (s == StoreStatus::kOk) hash.write(hash.ctx, i.content_hash.data(), i.content_hash.size());
  return to_status(s);
}

namespace {

// A check's status other than OK or INVALID, carried out of the backend's
// put (which stores nothing when its check throws) back to the caller.
struct CheckFailed {
  dicomd_status status;
};

}  // namespace

dicomd_status StorageService::put_checked(dicomd_str study, dicomd_str name, dicomd_str bytes, dicomd_str uploader,
                                          dicomd_written_check_fn check, void* check_ctx, dicomd_sink refusal) {
  WrittenCheck written_check;
  if (check) {
    written_check = [&](int fd, uint64_t size) -> std::optional<std::string> {
      std::string reason;
      dicomd_status s = check(check_ctx, fd, size, string_sink(reason));
      if (s == DICOMD_OK) return std::nullopt;
      if (s == DICOMD_E_INVALID) return reason.empty() ? std::string("refused") : reason;
      throw CheckFailed{s};
    };
  }
  return traced("storage.write", "write a file", [&]() -> dicomd_status {
    std::string reason;
    StoreStatus s;
    try {
      s = store_.put_checked(view(study), view(name), view(bytes), view(uploader), written_check, reason);
    } catch (const CheckFailed& failed) {
      return failed.status;
    }
    if (s == StoreStatus::kRefused) refusal.write(refusal.ctx, reason.data(), reason.size());
    return to_status(s);
  });
}

dicomd_status StorageService::open_described(dicomd_str study, dicomd_str name, int32_t* fd, dicomd_object_info* info,
                                             dicomd_sink hash, dicomd_sink uploader) {
  return traced("storage.open", "open a file", [&]() -> dicomd_status {
    ObjectInfo i;
    int opened = -1;
    StoreStatus s = fd ? store_.open(view(study), view(name), opened, i) : store_.describe(view(study), view(name), i);
    if (s != StoreStatus::kOk) return to_status(s);
    if (fd) *fd = opened;
    *info = dicomd_object_info{i.size, i.modified_ns};
    hash.write(hash.ctx, i.content_hash.data(), i.content_hash.size());
    uploader.write(uploader.ctx, i.uploader.data(), i.uploader.size());
    return DICOMD_OK;
  });
}

dicomd_status StorageService::read_range(dicomd_str study, dicomd_str name, uint64_t offset, uint64_t length,
                                         uint64_t* total_size, dicomd_bytes_fn consume, void* ctx) {
  return traced("storage.read", "read a file", [&] {
    uint64_t total = 0;
    StoreStatus s = store_.read_range(view(study), view(name), offset, length, total,
                                      [&](std::string_view bytes) { consume(ctx, str(bytes)); });
    *total_size = total;
    return to_status(s);
  });
}

dicomd_status StorageService::remove_study_counted(dicomd_str study, uint64_t* removed_files) {
  size_t removed = 0;
  StoreStatus s = store_.remove_study(view(study), removed);
  *removed_files = removed;
  return to_status(s);
}

}  // namespace dicomd::storage
