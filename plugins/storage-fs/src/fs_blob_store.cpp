#include "fs_blob_store.h"

#include <sys/xattr.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <utility>

#include <dicomd/cpp/names.hpp>

#include "read_at.h"
#include "unicode_nfc.h"

namespace dicomd::storage {
namespace {

constexpr const char* kTempDir = ".tmp";

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

std::string z(std::string_view s) {
  return std::string(s);
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Names of the directory's entries that pass is_valid_name and `keep`.
template <class Keep>
bool list_dir(int dir_fd, std::vector<std::string>& out, Keep keep) {
  int dup = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return false;
  DIR* dir = ::fdopendir(dup);
  if (!dir) {
    ::close(dup);
    return false;
  }
  ::rewinddir(dir);
  while (dirent* e = ::readdir(dir)) {
    std::string_view name = e->d_name;
    if (!is_valid_name(name)) continue;  // also skips ".", "..", ".tmp"
    struct stat st {};
    if (::fstatat(dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (keep(st)) out.emplace_back(name);
  }
  ::closedir(dir);
  std::sort(out.begin(), out.end());
  return true;
}

}  // namespace

FsBlobStore::FsBlobStore(const std::string& root, bool shared) {
  ::mkdir(root.c_str(), 0755);
  root_fd_ = ::open(root.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (root_fd_ < 0) throw std::runtime_error("cannot open storage root: " + std::string(std::strerror(errno)));
  ::mkdirat(root_fd_, kTempDir, 0700);
  tmp_fd_ = ::openat(root_fd_, kTempDir, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (tmp_fd_ < 0) throw std::runtime_error("cannot open storage temp folder: " + std::string(std::strerror(errno)));
  // Leftovers of uploads interrupted by a crash: never visible, now removed
  // (on a shared folder only old ones: the others may be another host's).
  std::vector<std::string> leftovers;
  int dup = ::fcntl(tmp_fd_, F_DUPFD_CLOEXEC, 0);
  if (DIR* dir = dup >= 0 ? ::fdopendir(dup) : nullptr) {
    while (dirent* e = ::readdir(dir))
      if (e->d_name[0] != '.') leftovers.emplace_back(e->d_name);
    ::closedir(dir);
  }
  const time_t an_hour_ago = ::time(nullptr) - 3600;
  for (const auto& name : leftovers) {
    struct stat st {};
    if (shared && (::fstatat(tmp_fd_, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_mtime > an_hour_ago))
      continue;
    ::unlinkat(tmp_fd_, name.c_str(), 0);
  }
}

FsBlobStore::~FsBlobStore() {
  if (tmp_fd_ >= 0) ::close(tmp_fd_);
  if (root_fd_ >= 0) ::close(root_fd_);
}

std::string FsBlobStore::temp_name() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[64];
  std::snprintf(buf, sizeof buf, "up-%d-%llu-%016llx", static_cast<int>(::getpid()),
                static_cast<unsigned long long>(++temp_counter_), static_cast<unsigned long long>(rng()));
  return buf;
}

int FsBlobStore::open_study(std::string_view study, bool create) {
  std::string s = z(study);
  if (create) {
    if (::mkdirat(root_fd_, s.c_str(), 0755) == 0)
      ::fsync(root_fd_);  // the new folder's entry must survive a crash too
    else if (errno != EEXIST)
      return -1;
  }
  return ::openat(root_fd_, s.c_str(), O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

int FsBlobStore::open_file(std::string_view study, std::string_view name) {
  Fd dir(open_study(study, false));
  if (!dir.ok()) return -1;
  return ::openat(dir.get(), z(name).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

// Sets the modification time from the full-resolution clock: the kernel's
// own stamp moves in clock ticks (several ms), and readers (the header cache,
// render ETags) tell a file from one stored again under its name by size and
// this time.
bool FsBlobStore::stamp_now(int fd) {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const timespec times[2] = {now, now};
  return ::futimens(fd, times) == 0;
}

// The content hash lives with the file, in an extended attribute set on the
// temporary file before it is renamed into place, so a file and its hash
// appear together. A filesystem without user xattrs keeps none (ETags then
// fall back to size and time); any other failure fails the put.
bool FsBlobStore::keep_content_hash(int fd, std::string_view bytes) {
  std::string hash = content_hash_of(bytes);
  if (::fsetxattr(fd, kHashAttribute, hash.data(), hash.size(), 0) == 0) return true;
  return errno == ENOTSUP || errno == EOPNOTSUPP;
}

// A temporary file, removed unless it was renamed into place (also when a
// check throws).
class FsBlobStore::Temp {
 public:
  Temp(int folder, std::string name) : folder_(folder), name_(std::move(name)) {}
  ~Temp() {
    if (!name_.empty()) ::unlinkat(folder_, name_.c_str(), 0);
  }
  Temp(const Temp&) = delete;
  Temp& operator=(const Temp&) = delete;
  const char* name() const { return name_.c_str(); }
  void keep() { name_.clear(); }

 private:
  int folder_;
  std::string name_;
};

StoreStatus FsBlobStore::put_checked(std::string_view study, std::string_view name, std::string_view bytes,
                                     std::string_view uploader, const WrittenCheck& check, std::string& refusal) {
  // Only NFC spellings are stored, so a look-alike name can never be created.
  if (!is_valid_name(study) || !is_valid_name(name) || !is_nfc(study) || !is_nfc(name))
    return StoreStatus::kInvalidName;
  std::shared_lock study_lock(studies_);  // a study's removal waits for this put, or comes before it
  Fd dir(open_study(study, true));
  if (!dir.ok()) return StoreStatus::kIoError;
  std::string target = z(name);
  if (::faccessat(dir.get(), target.c_str(), F_OK, AT_SYMLINK_NOFOLLOW) == 0) return StoreStatus::kExists;

  Temp temp(tmp_fd_, temp_name());
  Fd file(::openat(tmp_fd_, temp.name(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));  // readable: for the check
  if (!file.ok()) return StoreStatus::kIoError;
  if (!write_all(file.get(), bytes)) return StoreStatus::kIoError;
  if (check)
    if (std::optional<std::string> why = check(file.get(), bytes.size())) {
      refusal = std::move(*why);
      return StoreStatus::kRefused;
    }
  // The uploader is recorded before the rename, so a file never appears
  // without it: an owner check (a standard role's delete) can trust it.
  bool written =
      keep_content_hash(file.get(), bytes) &&
      (uploader.empty() || ::fsetxattr(file.get(), kUploaderAttribute, uploader.data(), uploader.size(), 0) == 0) &&
      stamp_now(file.get()) && ::fsync(file.get()) == 0;
  if (::close(file.release()) != 0) written = false;
  if (!written) return StoreStatus::kIoError;
  // Appears complete or not at all; a concurrent put of the same name loses.
  int rc = ::renameat2(tmp_fd_, temp.name(), dir.get(), target.c_str(), RENAME_NOREPLACE);
  if (rc == 0) temp.keep();        // renamed: nothing left to remove
  if (rc != 0 && errno == EINVAL)  // a filesystem without RENAME_NOREPLACE: the temporary name goes with `temp`
    rc = ::linkat(tmp_fd_, temp.name(), dir.get(), target.c_str(), 0);
  if (rc != 0) return errno == EEXIST ? StoreStatus::kExists : StoreStatus::kIoError;
  // The new name is durable once the folder is: an fsync shared with the
  // uploads landing in this study at the same time.
  return directory_sync_.sync(std::string(study), dir.get()) ? StoreStatus::kOk : StoreStatus::kIoError;
}

namespace {

constexpr size_t kReadCopyMax = 64 << 20;  // larger files are mapped

}  // namespace

// A stored regular file opened for reading (fd, which the caller owns) and
// its size; kNotFound for anything else.
StoreStatus FsBlobStore::open_regular(std::string_view study, std::string_view name, int& fd, uint64_t& size) {
  if (!is_valid_name(study) || !is_valid_name(name)) return StoreStatus::kInvalidName;
  Fd file(open_file(study, name));
  if (!file.ok())
    return errno == ENOENT || errno == ELOOP || errno == ENOTDIR ? StoreStatus::kNotFound : StoreStatus::kIoError;
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) return StoreStatus::kIoError;
  if (!S_ISREG(st.st_mode)) return StoreStatus::kNotFound;
  size = static_cast<uint64_t>(st.st_size);
  fd = file.release();
  return StoreStatus::kOk;
}

StoreStatus FsBlobStore::read_range(std::string_view study, std::string_view name, uint64_t offset, uint64_t length,
                                    uint64_t& total_size, const std::function<void(std::string_view)>& consume) {
  int opened = -1;
  uint64_t file_size = 0;
  if (StoreStatus s = open_regular(study, name, opened, file_size); s != StoreStatus::kOk) return s;
  Fd file(opened);
  total_size = file_size;
  size_t count = offset < total_size ? static_cast<size_t>(std::min(length, total_size - offset)) : 0;
  std::string bytes(count, '\0');
  if (count > 0 && !common::read_exactly_at(file.get(), offset, bytes.data(), count)) return StoreStatus::kIoError;
  consume(bytes);
  return StoreStatus::kOk;
}

StoreStatus FsBlobStore::read(std::string_view study, std::string_view name,
                              const std::function<void(std::string_view)>& consume) {
  int opened = -1;
  uint64_t file_size = 0;
  if (StoreStatus s = open_regular(study, name, opened, file_size); s != StoreStatus::kOk) return s;
  Fd file(opened);
  if (file_size == 0) {
    consume(std::string_view());
    return StoreStatus::kOk;
  }
  size_t size = static_cast<size_t>(file_size);
  if (size <= kReadCopyMax) {
    // Copied into memory the allocator reuses: cheaper than mapping, where
    // every page is a fault and every unmap a TLB shootdown on all cores.
    auto bytes = std::make_unique_for_overwrite<char[]>(size);
    if (!common::read_exactly_at(file.get(), 0, bytes.get(), size)) return StoreStatus::kIoError;
    consume(std::string_view(bytes.get(), size));
    return StoreStatus::kOk;
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, file.get(), 0);
  if (map == MAP_FAILED) return StoreStatus::kIoError;
  try {
    consume(std::string_view(static_cast<const char*>(map), size));
  } catch (...) {
    ::munmap(map, size);
    throw;
  }
  ::munmap(map, size);
  return StoreStatus::kOk;
}

StoreStatus FsBlobStore::stat(std::string_view study, std::string_view name, ObjectInfo& info) {
  int fd = -1;
  StoreStatus s = open(study, name, fd, info);  // opened, not fstatat: the hash comes from the same inode
  if (s == StoreStatus::kOk) ::close(fd);
  return s;
}

StoreStatus FsBlobStore::open(std::string_view study, std::string_view name, int& fd, ObjectInfo& info) {
  if (!is_valid_name(study) || !is_valid_name(name)) return StoreStatus::kInvalidName;
  Fd dir(open_study(study, false));
  if (!dir.ok()) return StoreStatus::kNotFound;
  // O_NONBLOCK: a FIFO planted in the folder must not hang the open.
  Fd file(::openat(dir.get(), z(name).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  struct stat st {};
  if (!file.ok() || ::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) return StoreStatus::kNotFound;
  info.size = static_cast<uint64_t>(st.st_size);
  info.modified_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  char hash[64];
  ssize_t n = ::fgetxattr(file.get(), kHashAttribute, hash, sizeof hash);
  info.content_hash = n > 0 ? std::string(hash, static_cast<size_t>(n)) : std::string();
  char uploader[256];
  n = ::fgetxattr(file.get(), kUploaderAttribute, uploader, sizeof uploader);
  info.uploader = n > 0 ? std::string(uploader, static_cast<size_t>(n)) : std::string();
  fd = file.release();
  return StoreStatus::kOk;
}

StoreStatus FsBlobStore::list_studies(std::vector<std::string>& out) {
  return list_dir(root_fd_, out, [](const struct stat& st) { return S_ISDIR(st.st_mode); }) ? StoreStatus::kOk
                                                                                            : StoreStatus::kIoError;
}

StoreStatus FsBlobStore::list_files(std::string_view study, std::vector<std::string>& out) {
  if (!is_valid_name(study)) return StoreStatus::kInvalidName;
  Fd dir(open_study(study, false));
  if (!dir.ok()) return StoreStatus::kNotFound;
  return list_dir(dir.get(), out, [](const struct stat& st) { return S_ISREG(st.st_mode); }) ? StoreStatus::kOk
                                                                                             : StoreStatus::kIoError;
}

StoreStatus FsBlobStore::remove(std::string_view study, std::string_view name) {
  if (!is_valid_name(study) || !is_valid_name(name)) return StoreStatus::kInvalidName;
  Fd dir(open_study(study, false));
  if (!dir.ok()) return StoreStatus::kNotFound;
  struct stat st {};
  std::string n = z(name);
  if (::fstatat(dir.get(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
    return StoreStatus::kNotFound;
  if (::unlinkat(dir.get(), n.c_str(), 0) != 0) return errno == ENOENT ? StoreStatus::kNotFound : StoreStatus::kIoError;
  ++removals_;
  ::fsync(dir.get());
  return StoreStatus::kOk;
}

StoreStatus FsBlobStore::remove_study(std::string_view study, size_t& removed_files) {
  // Exclusive: no put is half-way into the folder being removed. An upload
  // lands wholly before the removal (and is removed with it) or after it
  // (in a new folder of the same name); neither fails.
  std::unique_lock study_lock(studies_);
  removed_files = 0;
  if (!is_valid_name(study)) return StoreStatus::kInvalidName;
  Fd dir(open_study(study, false));
  if (!dir.ok()) return StoreStatus::kNotFound;
  std::vector<std::string> names;
  // Every entry, hidden or not, so that the folder can be removed.
  int dup = ::fcntl(dir.get(), F_DUPFD_CLOEXEC, 0);
  if (DIR* d = dup >= 0 ? ::fdopendir(dup) : nullptr) {
    while (dirent* e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
    ::closedir(d);
  }
  for (const auto& n : names)
    if (::unlinkat(dir.get(), n.c_str(), 0) == 0) ++removed_files;
  ++removals_;
  if (::unlinkat(root_fd_, z(study).c_str(), AT_REMOVEDIR) != 0) return StoreStatus::kIoError;
  ::fsync(root_fd_);
  return StoreStatus::kOk;
}

}  // namespace dicomd::storage
