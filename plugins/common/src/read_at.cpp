#include "read_at.h"

#include <unistd.h>

#include <cerrno>

namespace dicomd::common {

bool read_exactly_at(int fd, uint64_t offset, char* out, size_t size) {
  for (size_t done = 0; done < size;) {
    ssize_t n = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace dicomd::common
