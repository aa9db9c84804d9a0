// A small HTTP/1.1 server for tests that check what dicomd sends out (error
// events, trace batches): it listens on 127.0.0.1, keeps every request it
// receives, and answers each with a set status, after a set delay if asked
// (a slow collector). Keep-alive, Content-Length bodies; a gzip body
// (Content-Encoding: gzip) is kept uncompressed, the header kept.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dicomd::test {

struct ReceivedRequest {
  std::string method, target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpReceiver {
 public:
  HttpReceiver();
  ~HttpReceiver();
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  uint16_t port() const { return port_; }
  // Keeps later requests without their bodies, counting the bytes only (a
  // benchmark's collector).
  void discard_bodies();
  uint64_t body_bytes() const;
  // How later requests are answered (the body "{}" unless given).
  void answer_with(int status, std::chrono::milliseconds delay = std::chrono::milliseconds(0), std::string body = "{}");
  // Every request so far.
  std::vector<ReceivedRequest> received() const;
  // Waits until at least `count` requests came; false on timeout.
  bool wait_for(size_t count, std::chrono::milliseconds timeout) const;

 private:
  void accept_loop();
  void serve(int fd);

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<ReceivedRequest> received_;
  std::vector<int> open_fds_;
  int status_ = 200;
  std::string answer_body_ = "{}";
  bool discard_ = false;
  uint64_t body_bytes_ = 0;
  std::chrono::milliseconds delay_{0};
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace dicomd::test
