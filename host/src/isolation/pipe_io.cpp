#include "isolation/pipe_io.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

bool send_with_fd(int socket, const void* data, size_t len, int passed_fd, Deadline deadline, bool* timed_out) {
  if (len == 0) return false;
  if (!wait_ready(socket, POLLOUT, deadline, timed_out)) return false;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{const_cast<void*>(data), len};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &passed_fd, sizeof(int));
  ssize_t n;
  do n = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  return write_all(socket, static_cast<const char*>(data) + n, len - static_cast<size_t>(n), deadline, timed_out);
}

bool receive_with_fd(int socket, void* data, size_t len, int* received_fd) {
  *received_fd = -1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{data, len};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
      std::memcpy(received_fd, CMSG_DATA(c), sizeof(int));
  return read_all(socket, static_cast<char*>(data) + n, len - static_cast<size_t>(n), std::nullopt);
}

}  // namespace dicomd::isolation
