// What the file routes need from a storage backend. storage-fs implements it
// on the filesystem; an object-storage backend implements the same interface
// and reuses the routes (file_routes.h) unchanged.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dicomd::storage {

// kIoError: this object could not be written or read (disk full, a
// connection cut mid-transfer). kUnavailable: the store cannot be used at
// all now (an object store down, refusing the credentials, no bucket):
// clients get 503.
enum class StoreStatus { kOk, kNotFound, kExists, kIoError, kInvalidName, kRefused, kUnavailable };

// Looks at bytes just written, before they are made durable and visible:
// gets a readable descriptor of them and their size, and returns the reason
// to refuse them, or nullopt to store them. May throw: nothing is stored then.
using WrittenCheck = std::function<std::optional<std::string>(int fd, uint64_t size)>;

struct ObjectInfo {
  uint64_t size = 0;
  int64_t modified_ns = 0;
  // A hash of the content, computed when it was stored (hex); empty when the
  // backend could not keep one (a filesystem without extended attributes).
  std::string content_hash;
  // Who stored it (the subject of the uploader's token), from open() only;
  // empty when nobody was signed in or the backend keeps no such record.
  std::string uploader;
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  // Atomic and durable; never replaces an existing object (kExists).
  StoreStatus put(std::string_view study, std::string_view name, std::string_view bytes) {
    return put_by(study, name, bytes, {});
  }
  // The same, recording `uploader` (a signed-in subject) with the object.
  StoreStatus put_by(std::string_view study, std::string_view name, std::string_view bytes, std::string_view uploader) {
    std::string unused;
    return put_checked(study, name, bytes, uploader, {}, unused);
  }
  // The same, storing only what `check` (when set) accepts: kRefused, with
  // its reason in `refusal`, otherwise. A filesystem runs the check on the
  // temporary file, so the check reads the bytes where they were written
  // while the disk starts writing them back.
  virtual StoreStatus put_checked(std::string_view study, std::string_view name, std::string_view bytes,
                                  std::string_view uploader, const WrittenCheck& check, std::string& refusal) = 0;
  // Calls consume once with a view of the whole object, valid during the call.
  virtual StoreStatus read(std::string_view study, std::string_view name,
                           const std::function<void(std::string_view)>& consume) = 0;
  // Calls consume once with up to `length` bytes from `offset` (fewer at
  // the object's end, none past it); total_size gets the object's size.
  // This default reads the whole object.
  virtual StoreStatus read_range(std::string_view study, std::string_view name, uint64_t offset, uint64_t length,
                                 uint64_t& total_size, const std::function<void(std::string_view)>& consume) {
    return read(study, name, [&](std::string_view all) {
      total_size = all.size();
      consume(offset < all.size() ? all.substr(offset, length) : std::string_view());
    });
  }
  virtual StoreStatus stat(std::string_view study, std::string_view name, ObjectInfo& info) = 0;
  // A read-only descriptor of the object, which the caller closes, and its
  // info, both of the same stored version (a later replacement or removal
  // leaves what the descriptor reads unchanged).
  virtual StoreStatus open(std::string_view study, std::string_view name, int& fd, ObjectInfo& info) = 0;
  // open()'s info (uploader included) without the bytes. This default
  // opens and closes; a store whose open fetches the object (storage-s3)
  // asks for the info alone.
  virtual StoreStatus describe(std::string_view study, std::string_view name, ObjectInfo& info) {
    int fd = -1;
    StoreStatus s = open(study, name, fd, info);
    if (s == StoreStatus::kOk) ::close(fd);
    return s;
  }
  virtual StoreStatus list_studies(std::vector<std::string>& out) = 0;                        // sorted
  virtual StoreStatus list_files(std::string_view study, std::vector<std::string>& out) = 0;  // sorted
  virtual StoreStatus remove(std::string_view study, std::string_view name) = 0;
  virtual StoreStatus remove_study(std::string_view study, size_t& removed_files) = 0;
  // Grows before remove and remove_study return (see storage_v1.h).
  virtual uint64_t removal_count() const = 0;
};

}  // namespace dicomd::storage
