#include "data_folder_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace dicomd {

DataFolderLock::DataFolderLock(const std::string& data_dir, bool shared) {
  std::string path = data_dir + "/dicomd.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd_ < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd_, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
    char pid[32] = {};
    ssize_t n = ::pread(fd_, pid, sizeof pid - 1, 0);
    std::string holder = n > 0 ? " (pid " + std::string(pid, static_cast<size_t>(n)) + ")" : "";
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("another dicomd" + holder + " is using the data folder " + data_dir +
                             (shared ? " alone: every host of a shared folder needs \"shared_data_folder\": true"
                                     : ": one instance per folder, unless every one sets \"shared_data_folder\": true "
                                       "(docs/configuration.md)"));
  }
  if (shared) return;  // no pid: several hold it
  std::string me = std::to_string(::getpid());
  if (::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, me.data(), me.size(), 0) < 0) {
    // The pid is only a hint for the message above; the lock is what counts.
  }
}

DataFolderLock::~DataFolderLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace dicomd
