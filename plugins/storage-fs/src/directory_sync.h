// Group commit of folder fsyncs. A rename into a folder is durable once an
// fsync of that folder which began after the rename has completed. Uploads
// landing in one study at once share such fsyncs: while one runs, the others
// wait for the next, which then covers all of them (measured: 8 concurrent
// CT uploads spent about 15 % of their time in one folder fsync each).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace dicomd::storage {

class DirectorySync {
 public:
  // Returns once an fsync of the folder `key` (open as `dir_fd`) that began
  // after this call has completed; false if that fsync failed.
  bool sync(const std::string& key, int dir_fd);
  // fsync calls made so far (for tests).
  uint64_t fsync_calls() const;

 private:
  struct Folder {
    uint64_t requested = 0;    // tickets handed out
    uint64_t done = 0;         // tickets covered by a finished fsync
    uint64_t failed_upto = 0;  // tickets covered by a failed fsync
    bool running = false;
    int waiters = 0;
  };
  mutable std::mutex mutex_;
  std::condition_variable finished_;
  std::unordered_map<std::string, Folder> folders_;
  uint64_t fsync_calls_ = 0;
};

}  // namespace dicomd::storage
