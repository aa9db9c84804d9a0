// An anonymous in-memory file (memfd): bytes handed on as a descriptor
// where no file on disk holds them (an object fetched from S3, an upload
// checked before a store that has no file of it). Sealed, nobody can
// change it any more: what a reader of a stored object relies on.
#pragma once

#include <string_view>

namespace dicomd::common {

class MemFile {
 public:
  // ok() is false when the kernel refused one (no memory, no memfd).
  explicit MemFile(const char* name);
  ~MemFile();
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;

  bool ok() const { return fd_ >= 0; }
  int get() const { return fd_; }
  // Appends all of `bytes`; false on a write error.
  bool append(std::string_view bytes);
  // Empties it (a transfer starting over).
  bool clear();
  // Forbids any change from now on and rewinds to the start.
  bool seal();
  // The descriptor, which the caller now closes.
  int release();

 private:
  int fd_;
};

}  // namespace dicomd::common
