#include "s3_server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "s3_client.h"
#include "server_process.h"

namespace dicomd::test {
namespace {

constexpr std::string_view kObjectSuffix = "._S3rver_object";

}  // namespace

S3Server::S3Server(std::string bucket, bool torn_puts) : bucket_(std::move(bucket)), torn_puts_(torn_puts) {
  write_file(dir_ / "access-key", "DICOMDTESTKEY\n");
  write_file(dir_ / "secret-key", "dicomd-test-secret-0123456789\n");
  write_file(dir_ / "wrong-secret-key", "not-the-secret\n");
  launch(0);
}

S3Server::~S3Server() {
  stop();
}

void S3Server::launch(uint16_t port) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  // The legacy provider: s3rver's continuation tokens use DES, which
  // OpenSSL 3 keeps there (without it, every truncated listing is a 500).
  std::vector<std::string> args{"node",
                                "--openssl-legacy-provider",
                                source_dir() + "/tests/s3/s3_server.cjs",
                                "--dir",
                                (dir_ / "objects").string(),
                                "--bucket",
                                bucket_,
                                "--access-key-file",
                                access_file(),
                                "--secret-key-file",
                                secret_file(),
                                "--port",
                                std::to_string(port),
                                "--torn-puts",
                                torn_puts_ ? "yes" : "no"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  stdin_fd_ = in[1];  // closed by stop(): the server ends with its test
  std::string said;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (said.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[256];
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    said.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  if (!said.starts_with("listening ")) {
    stop(true);
    throw std::runtime_error("the test S3 server (tests/s3/s3_server.cjs) did not start: " + said +
                             " (scripts/test installs it with npm ci in tests/s3)");
  }
  port_ = static_cast<uint16_t>(std::stoi(said.substr(10)));
}

void S3Server::stop(bool hard) {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGCONT);  // a paused server must be able to stop
  ::kill(pid_, hard ? SIGKILL : SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  stdin_fd_ = -1;
}

void S3Server::pause() {
  ::kill(pid_, SIGSTOP);
}
void S3Server::resume() {
  ::kill(pid_, SIGCONT);
}
void S3Server::change_secret(const std::string& secret) {
  write_file(dir_ / "secret-key", secret + "\n");
}

void S3Server::start() {
  if (pid_ <= 0) launch(port_);
}

std::string S3Server::endpoint() const {
  std::string url = "http://127.0.0.1:";
  url += std::to_string(port_);
  return url;
}

// (Appended piece by piece: GCC 12 warns falsely on "literal" + temporary.)
std::string S3Server::config_keys(const std::string& secret_file, const std::string& endpoint) const {
  std::string keys = R"("endpoint":")";
  keys += endpoint.empty() ? this->endpoint() : endpoint;
  keys += R"(","bucket":")";
  keys += kBucket;
  keys += R"(","access_key_file":")";
  keys += access_file();
  keys += R"(","secret_key_file":")";
  keys += secret_file.empty() ? this->secret_file() : secret_file;
  keys += R"(","connect_timeout_ms":1000,"stall_timeout_ms":3000,"max_retries":2)";
  return keys;
}

std::vector<std::string> S3Server::object_keys() const {
  std::vector<std::string> keys;
  auto root = dir_ / "objects" / kBucket;
  if (!std::filesystem::exists(root)) return keys;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    std::string path = std::filesystem::relative(e.path(), root).string();
    if (path.ends_with(kObjectSuffix)) keys.push_back(path.substr(0, path.size() - kObjectSuffix.size()));
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

void S3Server::put_object(const std::string& key, const std::string& bytes) const {
  s3::ClientOptions o;
  o.endpoint = endpoint();
  o.bucket = kBucket;
  o.access_key = "DICOMDTESTKEY";
  o.secret_key = "dicomd-test-secret-0123456789";
  s3::S3Client client(o);
  s3::Call put{"PUT", key, {}, bytes, {}, nullptr, true};
  s3::Reply r = client.perform(put);
  if (!r.ok()) throw std::runtime_error("PUT " + key + " answered " + std::to_string(r.status) + " " + r.body);
}

std::string S3Server::object_bytes(const std::string& key) const {
  return read_file(dir_ / "objects" / kBucket / (key + std::string(kObjectSuffix)));
}

}  // namespace dicomd::test
