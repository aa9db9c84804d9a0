#include "directory_sync.h"

#include <unistd.h>

namespace dicomd::storage {

bool DirectorySync::sync(const std::string& key, int dir_fd) {
  std::unique_lock lock(mutex_);
  Folder& f = folders_[key];  // stays valid: entries are erased only by the last waiter
  uint64_t ticket = ++f.requested;
  ++f.waiters;
  while (f.done < ticket) {
    if (f.running) {
      finished_.wait(lock);
      continue;
    }
    f.running = true;
    uint64_t covers = f.requested;  // every rename made before this fsync starts
    ++fsync_calls_;
    lock.unlock();
    bool ok = ::fsync(dir_fd) == 0;
    lock.lock();
    f.running = false;
    f.done = covers;
    if (!ok) f.failed_upto = covers;
    finished_.notify_all();
  }
  bool ok = ticket > f.failed_upto;
  if (--f.waiters == 0) folders_.erase(key);
  return ok;
}

uint64_t DirectorySync::fsync_calls() const {
  std::lock_guard lock(mutex_);
  return fsync_calls_;
}

}  // namespace dicomd::storage
