#include "http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <vector>

namespace dicomd::test {

Connection::Connection(uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

void Connection::send_raw(const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;  // the server may close early (e.g. 413); the test checks the reply
    sent += static_cast<size_t>(n);
  }
}

bool Connection::fill(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  char buf[65536];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) return false;
  buffer_.append(buf, static_cast<size_t>(n));
  return true;
}

std::optional<HttpReply> Connection::read_reply(std::chrono::milliseconds timeout, bool no_body) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    size_t end = buffer_.find("\r\n\r\n");
    if (end != std::string::npos) {
      HttpReply reply;
      std::string head = buffer_.substr(0, end);
      size_t eol = head.find("\r\n");
      std::string status_line = head.substr(0, eol);
      if (status_line.size() < 12) return std::nullopt;
      reply.status = std::stoi(status_line.substr(9, 3));
      size_t pos = eol;
      while (pos != std::string::npos && pos < head.size()) {
        size_t next = head.find("\r\n", pos + 2);
        std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
        size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string name = line.substr(0, colon);
          std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
          std::string value = line.substr(colon + 1);
          value.erase(0, value.find_first_not_of(' '));
          reply.headers[name] = value;
        }
        pos = next;
      }
      size_t length =
          !no_body && reply.headers.count("content-length") ? std::stoul(reply.headers["content-length"]) : 0;
      if (reply.status == 100) {
        buffer_.erase(0, end + 4);
        return reply;
      }
      while (buffer_.size() < end + 4 + length)
        if (!fill(deadline)) return std::nullopt;
      reply.body = buffer_.substr(end + 4, length);
      buffer_.erase(0, end + 4 + length);
      return reply;
    }
    if (!fill(deadline)) return std::nullopt;
  }
}

bool Connection::closed_by_peer(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<long>(left.count(), 1))) <= 0) return false;
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
  return false;
}

HttpReply request(uint16_t port, const std::string& method, const std::string& target, const std::string& body,
                  const std::map<std::string, std::string>& headers) {
  Connection c(port);
  if (!c.ok()) throw std::runtime_error("cannot connect to port " + std::to_string(port));
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [name, value] : headers) req += name + ": " + value + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT")
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  c.send_raw(req);
  auto reply = c.read_reply(std::chrono::seconds(30));
  if (!reply) throw std::runtime_error("no reply to " + method + " " + target);
  return *reply;
}

std::pair<std::string, std::string> multipart_body(const std::map<std::string, std::string>& fields,
                                                   const std::vector<FormFile>& files) {
  const std::string boundary = "----dicomdTestBoundary7MA4YWxkTrZu0gW";
  std::string body;
  for (const auto& [name, value] : fields)
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
  for (const auto& f : files)
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f.field + "\"; filename=\"" + f.filename +
            "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + f.data + "\r\n";
  body += "--" + boundary + "--\r\n";
  return {"multipart/form-data; boundary=" + boundary, body};
}

}  // namespace dicomd::test
