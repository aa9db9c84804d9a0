#include "isolation/pipe_io.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace dicomd::isolation {
namespace {

// Waits for `events` on fd; false on deadline (sets timed_out) or error.
bool wait_ready(int fd, short events, Deadline deadline, bool* timed_out) {
  if (!deadline) return true;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      if (timed_out) *timed_out = true;
      return false;
    }
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1 << 30)));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

}  // namespace

bool write_all(int fd, const void* data, size_t len, Deadline deadline, bool* timed_out) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    if (!wait_ready(fd, POLLOUT, deadline, timed_out)) return false;
    ssize_t n = ::write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return false;
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

bool read_all(int fd, void* data, size_t len, Deadline deadline, bool* timed_out) {
  char* p = static_cast<char*>(data);
  while (len > 0) {
    if (!wait_ready(fd, POLLIN, deadline, timed_out)) return false;
    ssize_t n = ::read(fd, p, len);
    if (n == 0) return false;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return false;
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace dicomd::isolation
