#include "service_blob_store.h"

#include <exception>

#include <dicomd/cpp/http.hpp>

#include "mem_file.h"

namespace dicomd::storage {
namespace {

// Carries a WrittenCheck through the C callback: its verdict, or the
// exception it threw (rethrown once the backend's call returned).
struct CheckCall {
  const WrittenCheck* check;
  std::exception_ptr error;

  static dicomd_status call(void* ctx, int32_t fd, uint64_t size, dicomd_sink refusal) {
    auto* self = static_cast<CheckCall*>(ctx);
    try {
      std::optional<std::string> reason = (*self->check)(fd, size);
      if (!reason) return DICOMD_OK;
      refusal.write(refusal.ctx, reason->data(), reason->size());
      return DICOMD_E_INVALID;
    } catch (...) {
      self->error = std::current_exception();
      return DICOMD_E_INTERNAL;
    }
  }
};

void collect(void* ctx, dicomd_str name) {
  static_cast<std::vector<std::string>*>(ctx)->emplace_back(view(name));
}

}  // namespace

// Whether the bound backend offers `field` (fields were added in later ABI
// minors; a NULL one is not offered either).
#define HAS(field) (DICOMD_HAS_FIELD(v_, dicomd_storage_v1, field) && v_->field)

StoreStatus store_status(dicomd_status s) {
  switch (s) {
    case DICOMD_OK:
      return StoreStatus::kOk;
    case DICOMD_E_NOT_FOUND:
      return StoreStatus::kNotFound;
    case DICOMD_E_EXISTS:
      return StoreStatus::kExists;
    case DICOMD_E_INVALID:
      return StoreStatus::kInvalidName;
    case DICOMD_E_UNAVAILABLE:
      return StoreStatus::kUnavailable;
    default:
      return StoreStatus::kIoError;
  }
}

StoreStatus ServiceBlobStore::put_checked(std::string_view study, std::string_view name, std::string_view bytes,
                                          std::string_view uploader, const WrittenCheck& check, std::string& refusal) {
  if (!HAS(put_checked)) return put_on_a_copy(study, name, bytes, check, refusal);
  CheckCall call{&check, nullptr};
  std::string reason;
  dicomd_status s = v_->put_checked(v_->self, str(study), str(name), str(bytes), str(uploader),
                                    check ? &CheckCall::call : nullptr, &call, string_sink(reason));
  if (call.error) std::rethrow_exception(call.error);
  if (s == DICOMD_E_INVALID && !reason.empty()) {
    refusal = std::move(reason);
    return StoreStatus::kRefused;
  }
  return store_status(s);
}

// A backend without put_checked: the check reads an in-memory copy first.
StoreStatus ServiceBlobStore::put_on_a_copy(std::string_view study, std::string_view name, std::string_view bytes,
                                            const WrittenCheck& check, std::string& refusal) {
  if (check) {
    common::MemFile copy("dicomd-upload");
    if (!copy.ok() || !copy.append(bytes) || !copy.seal()) return StoreStatus::kIoError;
    if (auto reason = check(copy.get(), bytes.size())) {
      refusal = *reason;
      return StoreStatus::kRefused;
    }
  }
  return store_status(v_->put(v_->self, str(study), str(name), str(bytes)));
}

StoreStatus ServiceBlobStore::read(std::string_view study, std::string_view name,
                                   const std::function<void(std::string_view)>& consume) {
  auto each = [](void* ctx, dicomd_str bytes) {
    (*static_cast<const std::function<void(std::string_view)>*>(ctx))(view(bytes));
  };
  return store_status(
      v_->read(v_->self, str(study), str(name), each, const_cast<void*>(static_cast<const void*>(&consume))));
}

StoreStatus ServiceBlobStore::stat(std::string_view study, std::string_view name, ObjectInfo& info) {
  dicomd_object_info i{};
  StoreStatus s = store_status(v_->stat(v_->self, str(study), str(name), &i));
  if (s == StoreStatus::kOk) {
    info.size = i.size;
    info.modified_ns = i.modified_ns;
  }
  return s;
}

StoreStatus ServiceBlobStore::open(std::string_view study, std::string_view name, int& fd, ObjectInfo& info) {
  int32_t opened = -1;
  if (HAS(open_described)) {
    dicomd_object_info i{};
    info.content_hash.clear();
    info.uploader.clear();
    StoreStatus s = store_status(v_->open_described(v_->self, str(study), str(name), &opened, &i,
                                                    string_sink(info.content_hash), string_sink(info.uploader)));
    if (s != StoreStatus::kOk) return s;
    fd = opened;
    info.size = i.size;
    info.modified_ns = i.modified_ns;
    return s;
  }
  if (!HAS(open)) return open_a_copy(study, name, fd, info);
  uint64_t size = 0;
  StoreStatus s = store_status(v_->open(v_->self, str(study), str(name), &opened, &size));
  if (s != StoreStatus::kOk) return s;
  fd = opened;
  stat(study, name, info);
  info.size = size;
  if (HAS(content_hash)) v_->content_hash(v_->self, str(study), str(name), string_sink(info.content_hash));
  return s;
}

StoreStatus ServiceBlobStore::describe(std::string_view study, std::string_view name, ObjectInfo& info) {
  if (!HAS(open_described)) return BlobStore::describe(study, name, info);
  dicomd_object_info i{};
  info.content_hash.clear();
  info.uploader.clear();
  StoreStatus s = store_status(v_->open_described(v_->self, str(study), str(name), nullptr, &i,
                                                  string_sink(info.content_hash), string_sink(info.uploader)));
  info.size = i.size;
  info.modified_ns = i.modified_ns;
  return s;
}

// A backend without descriptors (before ABI 1.4): its bytes, read into an
// in-memory file.
StoreStatus ServiceBlobStore::open_a_copy(std::string_view study, std::string_view name, int& fd, ObjectInfo& info) {
  common::MemFile copy("dicomd-download");
  if (!copy.ok()) return StoreStatus::kIoError;
  bool written = false;
  StoreStatus s = read(study, name, [&](std::string_view bytes) {
    written = copy.append(bytes) && copy.seal();
    info.size = bytes.size();
  });
  if (s != StoreStatus::kOk) return s;
  if (!written) return StoreStatus::kIoError;
  ObjectInfo stated;
  if (stat(study, name, stated) == StoreStatus::kOk) info.modified_ns = stated.modified_ns;
  fd = copy.release();
  return s;
}

StoreStatus ServiceBlobStore::list_studies(std::vector<std::string>& out) {
  return store_status(v_->list_studies(v_->self, collect, &out));
}

StoreStatus ServiceBlobStore::list_files(std::string_view study, std::vector<std::string>& out) {
  return store_status(v_->list_files(v_->self, str(study), collect, &out));
}

StoreStatus ServiceBlobStore::remove(std::string_view study, std::string_view name) {
  return store_status(v_->remove(v_->self, str(study), str(name)));
}

StoreStatus ServiceBlobStore::remove_study(std::string_view study, size_t& removed_files) {
  if (HAS(remove_study_counted)) {
    uint64_t removed = 0;
    StoreStatus s = store_status(v_->remove_study_counted(v_->self, str(study), &removed));
    removed_files = removed;
    return s;
  }
  std::vector<std::string> files;  // counted before: an older backend tells no count
  if (StoreStatus s = list_files(study, files); s != StoreStatus::kOk) return s;
  removed_files = files.size();
  return store_status(v_->remove_study(v_->self, str(study)));
}

uint64_t ServiceBlobStore::removal_count() const {
  return HAS(removal_count) ? v_->removal_count(v_->self) : 0;
}

}  // namespace dicomd::storage
