#include "server/connection.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

namespace dicomd {

// Only while `closed` is false: after that the fd number may belong to another.
void hard_close(Connection& c) {
  c.dropped = true;
  if (!c.closed) ::shutdown(c.fd, SHUT_RDWR);
}

// SHUT_WR, not SHUT_RDWR: unread input would turn close into a reset that
// can destroy the reply before the client reads it.
void graceful_close(Connection& c) {
  c.closing = true;
  c.last_activity = Clock::now();
  if (!c.closed) ::shutdown(c.fd, SHUT_WR);
}

size_t send_now(Connection& c, std::string_view head, std::string_view body) {
  if (c.closed) return SIZE_MAX;
  iovec parts[2] = {{const_cast<char*>(head.data()), head.size()}, {const_cast<char*>(body.data()), body.size()}};
  msghdr msg{};
  msg.msg_iov = parts;
  msg.msg_iovlen = body.empty() ? 1 : 2;
  while (true) {
    ssize_t n = ::sendmsg(c.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : SIZE_MAX;
  }
}

// Pistache reads 4 KiB at a time; the rest of a body is read here directly
// into the request, in large chunks (Pistache's next read then finds the
// socket empty, or closed).
size_t receive_body_now(Connection& c) {
  if (c.closed) return 0;
  return c.parser.receive_body([fd = c.fd](char* into, size_t max) -> size_t {
    while (true) {
      ssize_t n = ::recv(fd, into, max, MSG_DONTWAIT);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return 0;  // EAGAIN: nothing more now; errors are Pistache's to see
    }
  });
}

}  // namespace dicomd
