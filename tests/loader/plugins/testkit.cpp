// testkit: a well-behaved plugin written with the C++ layer, with routes and
// isolated jobs that integration tests use to exercise the host.
#include <dicomd/cpp/plugin.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

namespace {

// A number field of /proc/self/status ("Seccomp": 0 none, 2 a filter), or -1.
int status_field(std::string_view name) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.starts_with(name) && line.size() > name.size() && line[name.size()] == ':')
      return std::atoi(line.c_str() + name.size() + 1);
  return -1;
}

// {"uid","noNewPrivs","fileSizeLimit","openFilesLimit","wroteFile","connected",
//  "seccomp","unixSocket"} as seen from inside a worker.
std::string probe_sandbox(int port) {
  rlimit fsize{}, nofile{};
  ::getrlimit(RLIMIT_FSIZE, &fsize);
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  std::string path = "/tmp/dicomd-sandbox-probe-" + std::to_string(::getpid());
  bool wrote = false;
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
  if (fd >= 0) {
    wrote = ::write(fd, "x", 1) == 1;
    ::close(fd);
    ::unlink(path.c_str());
  }
  bool connected = false;
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  if (s >= 0) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected = ::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(s);
  }
  int unix_socket = ::socket(AF_UNIX, SOCK_STREAM, 0);  // no network namespace stops this one
  if (unix_socket >= 0) ::close(unix_socket);
  auto limit = [](rlim_t v) { return v == RLIM_INFINITY ? std::string("-1") : std::to_string(v); };
  return "{\"uid\":" + std::to_string(::getuid()) + ",\"noNewPrivs\":" + std::to_string(status_field("NoNewPrivs")) +
         ",\"fileSizeLimit\":" + limit(fsize.rlim_cur) + ",\"openFilesLimit\":" + limit(nofile.rlim_cur) +
         ",\"wroteFile\":" + (wrote ? "true" : "false") + ",\"connected\":" + (connected ? "true" : "false") +
         ",\"seccomp\":" + std::to_string(status_field("Seccomp")) +
         ",\"unixSocket\":" + (unix_socket >= 0 ? "true" : "false") + "}";
}

class Testkit : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "testkit";
  static constexpr const char* kVersion = "1.2.3";
  static constexpr const char* kDescription = "host test helper";
  static constexpr std::array<dicomd_service_ref, 0> kProvides{};
  static constexpr std::array<dicomd_service_ref, 0> kRequires{};
  static constexpr auto routes() {
    return std::array{
        dicomd_route{"GET", "/test/slow", dicomd::route<&Testkit::slow>},
        dicomd_route{"GET", "/test/echo/:a/:b", dicomd::route<&Testkit::echo>},
        dicomd_route{"POST", "/test/isolate/:kind", dicomd::route<&Testkit::isolate>},
        dicomd_route{"POST", "/test/form", dicomd::route<&Testkit::form>},
        dicomd_route{"GET", "/test/throw", dicomd::route<&Testkit::throws>},
        dicomd_route{"GET", "/test/quick", dicomd::route<&Testkit::quick>},
        dicomd_route{"GET", "/test/big", dicomd::route<&Testkit::big>},
        dicomd_route{"POST", "/test/typed", dicomd::route<&Testkit::typed>},
        dicomd_route{"POST", "/test/isolate-file/:kind", dicomd::route<&Testkit::isolate_file>},
    };
  }
  static constexpr auto route_flags() { return std::array<uint32_t, 9>{0, 0, 0, 0, 0, DICOMD_ROUTE_QUICK, 0, 0, 0}; }
  static constexpr auto route_media_types() {
    return std::array<const char*, 9>{nullptr, nullptr, nullptr, nullptr,
                                      nullptr, nullptr, nullptr, "Multipart/Form-Data, application/dicom",
                                      nullptr};
  }

  Testkit(dicomd::Host host, std::string_view) : Plugin(host) {}

  // Sleeps ?ms= milliseconds (bounded), then answers.
  void slow(const dicomd::Request& req, dicomd::Response& res) {
    int ms = std::atoi(std::string(req.query("ms").value_or("100")).c_str());
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(ms, 20000)));
    res.json(200, R"({"success":true,"slept":)" + std::to_string(ms) + "}");
  }

  // Echoes path parameters and every query parameter, in order.
  void echo(const dicomd::Request& req, dicomd::Response& res) {
    std::string out = "{\"a\":\"" + dicomd::json_escape(*req.param("a")) + "\",\"b\":\"" +
                      dicomd::json_escape(*req.param("b")) + "\",\"tag\":[";
    auto tags = req.query_all("tag");
    for (size_t i = 0; i < tags.size(); ++i) out += (i ? ",\"" : "\"") + dicomd::json_escape(tags[i]) + "\"";
    res.json(200, out + "],\"success\":true}");
  }

  void isolate(const dicomd::Request& req, dicomd::Response& res) {
    std::string out;
    dicomd_status status = host().isolate(*req.param("kind"), req.body(), out, 2000);
    res.json(200, R"({"status":)" + std::to_string(status) + R"(,"output":")" + dicomd::json_escape(out) + "\"}");
  }

  // The body as a file (unlinked at once: the descriptor keeps it) handed
  // to the job with isolate_file: ?head=H&offset=N&length=L (default: the
  // rest of the file); ?pipe=1 passes a pipe instead of the file.
  void isolate_file(const dicomd::Request& req, dicomd::Response& res) {
    std::string path = host().data_dir() + "/isolate-file-" + std::to_string(::getpid()) + "-" +
                       std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot create " + path);
    ::unlink(path.c_str());
    dicomd::OwnedFd file(fd);
    if (::write(fd, req.body().data(), req.body().size()) != static_cast<ssize_t>(req.body().size()))
      throw std::runtime_error("short write");
    uint64_t offset = std::strtoull(std::string(req.query("offset").value_or("0")).c_str(), nullptr, 10);
    uint64_t length = req.query("length") ? std::strtoull(std::string(*req.query("length")).c_str(), nullptr, 10)
                                          : req.body().size() - std::min<uint64_t>(offset, req.body().size());
    int pipe_fds[2] = {-1, -1};
    if (req.query("pipe") == "1" && ::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    dicomd::OwnedFd pipe_read(pipe_fds[0]), pipe_write(pipe_fds[1]);
    std::string out;
    dicomd_status status = host().isolate_file(*req.param("kind"), req.query("head").value_or(""),
                                               pipe_fds[0] >= 0 ? pipe_fds[0] : fd, offset, length, out, 2000);
    res.json(200, R"({"status":)" + std::to_string(status) + R"(,"output":")" + dicomd::json_escape(out) + "\"}");
  }

  void form(const dicomd::Request& req, dicomd::Response& res) {
    std::string out = "[";
    bool ok = host().parse_multipart(req, [&](const dicomd_form_part& p) {
      out += (out.size() > 1 ? ",\"" : "\"") + dicomd::json_escape(dicomd::view(p.name)) + "=" +
             std::to_string(p.data.len) + "\"";
    });
    if (!ok) throw dicomd::HttpError(400, "malformed multipart body");
    res.json(200, out + "]");
  }

  // Reached only with a body type the route declares: says which.
  void typed(const dicomd::Request& req, dicomd::Response& res) {
    res.json(200, R"({"type":")" + dicomd::json_escape(req.media_type()) + R"(","success":true})");
  }

  // A 500. ?say= is logged first: what an error tracker's breadcrumbs get.
  void throws(const dicomd::Request& req, dicomd::Response&) {
    if (auto say = req.query("say")) host().warn("about to fail: " + std::string(*say));
    throw std::runtime_error("secret /internal/path");
  }

  // ?mb= MiB (at most 64) of a byte pattern: i % 251 at offset i.
  void big(const dicomd::Request& req, dicomd::Response& res) {
    size_t mb = std::min(64, std::atoi(std::string(req.query("mb").value_or("1")).c_str()));
    std::string body(mb << 20, '\0');
    for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i % 251);
    res.send(200, "application/octet-stream", body);
  }

  // A quick route: answers on the I/O thread, unless ?block=1 asks it to
  // behave like a cache miss (WouldBlock there, answer on a request thread).
  void quick(const dicomd::Request& req, dicomd::Response& res) {
    if (req.query("block") == "1" && !req.may_block()) throw dicomd::WouldBlock{};
    res.json(200, std::string(R"({"mayBlock":)") + (req.may_block() ? "true" : "false") + R"(,"success":true})");
  }

  // Runs in a worker process.
  static dicomd_status isolated_job(std::string_view kind, std::string_view input, dicomd_sink out,
                                    std::string_view traceparent) {
    if (kind == "traceparent") {  // the W3C traceparent the job was given
      out.write(out.ctx, traceparent.data(), traceparent.size());
      return DICOMD_OK;
    }
    if (kind == "echo") {
      std::string text = "pid " + std::to_string(::getpid()) + ": " + std::string(input);
      out.write(out.ctx, text.data(), text.size());
      return DICOMD_OK;
    }
    if (kind == "crash") std::abort();
    if (kind == "fork") {  // a call outside the sandbox's allow-list: a new process
      pid_t child = ::fork();
      if (child == 0) ::_exit(0);
      std::string text = child > 0 ? "forked" : "fork refused";
      out.write(out.ctx, text.data(), text.size());
      return DICOMD_OK;
    }
    if (kind == "spin") {  // burns `input` milliseconds of CPU
      auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::atoi(std::string(input).c_str()));
      volatile uint64_t x = 0;
      while (std::chrono::steady_clock::now() < end) x = x + 1;
      return DICOMD_OK;
    }
    if (kind == "hang") std::this_thread::sleep_for(std::chrono::hours(1));
    if (kind == "probe") {  // what the worker's sandbox lets it do; input: a loopback port to try
      std::string text = probe_sandbox(std::atoi(std::string(input).c_str()));
      out.write(out.ctx, text.data(), text.size());
      return DICOMD_OK;
    }
    return DICOMD_E_INVALID;
  }
};

}  // namespace

DICOMD_PLUGIN(Testkit)
