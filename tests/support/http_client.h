// A minimal blocking HTTP/1.1 client over raw sockets, for tests: it can send
// exactly the bytes a test wants (malformed ones included) and read replies.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dicomd::test {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class Connection {
 public:
  explicit Connection(uint16_t port);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void send_raw(const std::string& bytes);
  // Reads one response; nullopt on EOF or timeout before a whole one arrived.
  // no_body: the reply to a HEAD request (a length but no body).
  std::optional<HttpReply> read_reply(std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                      bool no_body = false);
  // True when the server closed the connection within the timeout.
  bool closed_by_peer(std::chrono::milliseconds timeout);
  bool ok() const { return fd_ >= 0; }

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  std::string buffer_;
};

// One request on a fresh connection ("Connection: close").
HttpReply request(uint16_t port, const std::string& method, const std::string& target, const std::string& body = "",
                  const std::map<std::string, std::string>& headers = {});

// Builds a multipart/form-data body; returns {content_type, body}.
struct FormFile {
  std::string field, filename, data;
};
std::pair<std::string, std::string> multipart_body(const std::map<std::string, std::string>& fields,
                                                   const std::vector<FormFile>& files);

}  // namespace dicomd::test
