#include "http_receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libdeflate.h>

#include <algorithm>
#include <stdexcept>

namespace dicomd::test {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// A gzip body's bytes; "" when it is not valid gzip (the test then fails on it).
std::string gunzip(const std::string& in) {
  libdeflate_decompressor* d = libdeflate_alloc_decompressor();
  std::string out(std::max<size_t>(in.size() * 8, 1 << 16), '\0');
  size_t n = 0;
  libdeflate_result r;
  while ((r = libdeflate_gzip_decompress(d, in.data(), in.size(), out.data(), out.size(), &n)) ==
         LIBDEFLATE_INSUFFICIENT_SPACE)
    out.resize(out.size() * 2);
  libdeflate_free_decompressor(d);
  out.resize(r == LIBDEFLATE_SUCCESS ? n : 0);
  return out;
}

// Parses one request from the front of `buffer`; false when incomplete.
bool take_request(std::string& buffer, ReceivedRequest& out) {
  size_t head_end = buffer.find("\r\n\r\n");
  if (head_end == std::string::npos) return false;
  std::string head = buffer.substr(0, head_end);
  ReceivedRequest r;
  size_t line_end = head.find("\r\n");
  std::string request_line = head.substr(0, line_end);
  size_t sp1 = request_line.find(' '), sp2 = request_line.rfind(' ');
  r.method = request_line.substr(0, sp1);
  r.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t next = head.find("\r\n", pos);
    if (next == std::string::npos) next = head.size();
    std::string line = head.substr(pos, next - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) r.headers[lower(line.substr(0, colon))] = trim(line.substr(colon + 1));
    pos = next + 2;
  }
  size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
  if (buffer.size() < head_end + 4 + length) return false;
  r.body = buffer.substr(head_end + 4, length);
  buffer.erase(0, head_end + 4 + length);
  if (r.headers["content-encoding"] == "gzip") r.body = gunzip(r.body);
  out = std::move(r);
  return true;
}

}  // namespace

HttpReceiver::HttpReceiver() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0)
    throw std::runtime_error("receiver: cannot listen");
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

HttpReceiver::~HttpReceiver() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  changed_.notify_all();
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  for (auto& t : threads_) t.join();
}

void HttpReceiver::discard_bodies() {
  std::lock_guard lock(mutex_);
  discard_ = true;
}

uint64_t HttpReceiver::body_bytes() const {
  std::lock_guard lock(mutex_);
  return body_bytes_;
}

void HttpReceiver::answer_with(int status, std::chrono::milliseconds delay, std::string body) {
  std::lock_guard lock(mutex_);
  status_ = status;
  answer_body_ = std::move(body);
  delay_ = delay;
}

std::vector<ReceivedRequest> HttpReceiver::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

bool HttpReceiver::wait_for(size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return received_.size() >= count; });
}

void HttpReceiver::accept_loop() {
  while (true) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    std::lock_guard lock(mutex_);
    if (stopping_ || fd < 0) {
      if (fd >= 0) ::close(fd);
      return;
    }
    open_fds_.push_back(fd);
    threads_.emplace_back([this, fd] { serve(fd); });
  }
}

void HttpReceiver::serve(int fd) {
  std::string buffer;
  char chunk[65536];
  while (true) {
    ReceivedRequest r;
    while (!take_request(buffer, r)) {
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        ::close(fd);
        std::lock_guard lock(mutex_);
        open_fds_.erase(std::find(open_fds_.begin(), open_fds_.end(), fd));
        return;
      }
      buffer.append(chunk, static_cast<size_t>(n));
    }
    int status;
    std::string body;
    {
      std::unique_lock lock(mutex_);
      body_bytes_ += r.body.size();
      if (discard_) r.body = std::string();
      received_.push_back(std::move(r));
      changed_.notify_all();
      status = status_;
      body = answer_body_;
      // A slow collector: answers after the delay, or when the test ends.
      changed_.wait_for(lock, delay_, [this] { return stopping_; });
    }
    std::string reply = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\n\r\n" + body;
    if (::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL) < 0) {
      // the client gave up (its timeout); the loop's next recv ends it
    }
  }
}

}  // namespace dicomd::test
