// One dicomd per data folder. Two instances on one folder were silently
// wrong: each trusts a header cache that only its own removals invalidate,
// and a starting one empties the shared .tmp, deleting the other's uploads
// in flight. The lock is an flock on DATA/dicomd.lock, released by the
// kernel when the process ends however it ends (kill -9 included).
#pragma once

#include <string>

namespace dicomd {

class DataFolderLock {
 public:
  // Throws std::runtime_error naming the folder (and the holder's pid when
  // the lock file says it) when another process holds the lock. `shared`
  // (config shared_data_folder): several dicomd hosts may hold it at once,
  // all shared, never beside one that holds it alone.
  DataFolderLock(const std::string& data_dir, bool shared);
  ~DataFolderLock();
  DataFolderLock(const DataFolderLock&) = delete;
  DataFolderLock& operator=(const DataFolderLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace dicomd
