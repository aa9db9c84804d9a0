// A TCP proxy on 127.0.0.1 for fault tests: forwards every connection to a
// target port, and cuts (closes both ends of) any connection whose client
// sends `marker` once cutting is armed, after forwarding what came with it:
// a store that goes away in the middle of a request.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dicomd::test {

class TcpProxy {
 public:
  explicit TcpProxy(uint16_t target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  uint16_t port() const { return port_; }
  // From now on, cut connections whose client sends `marker` ("" stops).
  void cut_on(const std::string& marker);
  // Connections cut so far.
  int cuts() const { return cuts_; }
  // Bytes relayed from the target to clients so far.
  uint64_t bytes_from_target() const { return from_target_; }

 private:
  void accept_loop();
  void relay(int client);

  uint16_t target_port_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::mutex mutex_;
  std::string marker_;
  std::atomic<int> cuts_{0};
  std::atomic<uint64_t> from_target_{0};
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace dicomd::test
