#include "server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace dicomd::test {

std::string dicomd_binary() {
  return DICOMD_TEST_BIN;
}
std::string core_plugin_dir() {
  return DICOMD_TEST_CORE_PLUGIN_DIR;
}
std::string test_plugin_dir() {
  return DICOMD_TEST_PLUGIN_DIR;
}
std::string source_dir() {
  return DICOMD_TEST_SOURCE_DIR;
}
std::string binary_dir() {
  return DICOMD_TEST_BINARY_DIR;
}

void write_file(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

pid_t spawn(const std::vector<std::string>& args, const std::string& log_path,
            const std::vector<std::string>& wrapper = {}) {
  std::vector<std::string> full = wrapper;
  full.push_back(dicomd_binary());
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : full) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// Waits for pid; returns the exit code, -signal, or nullopt on timeout.
std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

std::optional<uint16_t> listening_port(const std::string& log) {
  const std::string marker = "listening on http://";
  size_t at = log.find(marker);
  if (at == std::string::npos) return std::nullopt;
  size_t space = log.find(' ', at + marker.size());
  std::string address = log.substr(at + marker.size(), space - at - marker.size());
  return static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

RunResult run_dicomd(const std::vector<std::string>& args, std::chrono::seconds timeout) {
  TempDir dir;
  std::string log = (dir / "out.log").string();
  pid_t pid = spawn(args, log);
  RunResult result;
  auto code = wait_exit(pid, timeout);
  if (!code) {
    ::kill(pid, SIGKILL);
    wait_exit(pid, std::chrono::seconds(5));
  }
  result.exit_code = code.value_or(-1);
  result.output = read_file(log);
  return result;
}

ServerProcess::ServerProcess(std::vector<std::string> args) : ServerProcess(std::move(args), {}) {}

ServerProcess::ServerProcess(std::vector<std::string> args, std::vector<std::string> wrapper) {
  bool has_listen = false;
  for (const auto& a : args) has_listen = has_listen || a == "--listen" || a == "--config";
  if (!has_listen) {
    args.push_back("--listen");
    args.push_back("127.0.0.1:0");
  }
  pid_ = spawn(args, (dir_ / "server.log").string(), wrapper);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string text = log();
    if (auto port = listening_port(text)) {
      port_ = *port;
      return;
    }
    if (auto code = wait_exit(pid_, std::chrono::milliseconds(0))) {
      pid_ = -1;
      throw std::runtime_error("dicomd exited with " + std::to_string(*code) + ":\n" + text);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop(SIGKILL);
  throw std::runtime_error("dicomd did not start listening:\n" + log());
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) stop(SIGKILL);
}

int ServerProcess::stop(int sig, std::chrono::seconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, sig);
  auto code = wait_exit(pid_, timeout);
  if (!code) {
    ::kill(pid_, SIGKILL);
    code = wait_exit(pid_, std::chrono::seconds(10));
  }
  pid_ = -1;
  return code.value_or(-SIGKILL);
}

bool ServerProcess::running() {
  if (pid_ <= 0) return false;
  if (wait_exit(pid_, std::chrono::milliseconds(0))) {
    pid_ = -1;  // reaped: never signal this PID again
    return false;
  }
  return true;
}

std::string ServerProcess::log() const {
  return read_file(dir_ / "server.log");
}

bool ServerProcess::wait_for_log(const std::string& text, std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (log().find(text) == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

long ServerProcess::open_fds() const {
  long n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid_) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

long ServerProcess::rss_kib() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

}  // namespace dicomd::test
