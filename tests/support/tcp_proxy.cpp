#include "tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace dicomd::test {
namespace {

int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

TcpProxy::TcpProxy(uint16_t target_port) : target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("proxy: cannot listen");
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TcpProxy::~TcpProxy() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  for (auto& t : threads_) t.join();
}

void TcpProxy::cut_on(const std::string& marker) {
  std::lock_guard lock(mutex_);
  marker_ = marker;
}

void TcpProxy::accept_loop() {
  while (!stopping_) {
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    if (stopping_) {
      ::close(client);
      break;
    }
    threads_.emplace_back([this, client] { relay(client); });
  }
}

// Copies both ways until either side closes, the test ends, or the
// client's bytes so far hold the armed marker.
void TcpProxy::relay(int client) {
  int server = connect_to(target_port_);
  std::string seen;  // the client's bytes (the last 64 KiB), to find the marker in
  char buf[16384];
  while (server >= 0 && !stopping_) {
    pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    if (::poll(fds, 2, 100) <= 0) continue;
    if (fds[0].revents) {
      ssize_t n = ::recv(client, buf, sizeof buf, 0);
      if (n <= 0 || !send_all(server, buf, static_cast<size_t>(n))) break;
      seen.append(buf, static_cast<size_t>(n));
      if (seen.size() > 65536) seen.erase(0, seen.size() - 65536);
      std::string marker;
      {
        std::lock_guard lock(mutex_);
        marker = marker_;
      }
      if (!marker.empty() && seen.find(marker) != std::string::npos) {
        ++cuts_;
        break;
      }
    }
    if (fds[1].revents) {
      ssize_t n = ::recv(server, buf, sizeof buf, 0);
      if (n <= 0 || !send_all(client, buf, static_cast<size_t>(n))) break;
      from_target_ += static_cast<uint64_t>(n);
    }
  }
  if (server >= 0) ::close(server);
  ::close(client);
}

}  // namespace dicomd::test
