// A small HTTP/1.1 load client for the dicomd / Orthanc comparison: N
// keep-alive connections, each taking the next request from a shared list
// until the list (uploads) or the time (GETs) runs out. GETs run on one
// epoll thread (so that the client costs a few microseconds per request and
// leaves the CPU to the server); uploads on a thread per connection.
//   load_client PORT CONNECTIONS SECONDS get URL_LIST
//   load_client PORT CONNECTIONS SECONDS get-revalidate URL_LIST
//     (first fetches each URL once for its ETag, then asks with
//     If-None-Match: what a browser with a cached copy does; a 304 counts as
//     success, and a server without ETags simply answers 200 again)
//   load_client PORT CONNECTIONS SECONDS post PATH_BODY_LIST
//     (each line "PATH<TAB>JSON": POSTed as application/json, e.g. Orthanc's
//     /tools/find)
//   load_client PORT CONNECTIONS 0 upload-dicomd STUDY FILE_LIST
//   load_client PORT CONNECTIONS 0 upload-orthanc FILE_LIST ID_OUT
//   load_client PORT CONNECTIONS 0 upload-stow FILE_LIST
//     (STOW-RS: each file POSTed to /dicom-web/studies as a one-part
//     multipart/related body, which dicomd and Orthanc's DICOMweb both take)
// LOAD_CLIENT_HEADER="Name: value" adds that header to every request (an
// Authorization for a server with auth-jwt).
// Prints one JSON line: requests, errors, seconds, rps, mbps (request bytes),
// p50_ms, p99_ms, client_cpu_pct (this process's CPU over wall time).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Job {
  std::string head;  // request line and headers
  const std::string* body = nullptr;
};

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
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // Room for a whole CT upload: one send() call, not a wake-up per 64 KiB.
  int send_buffer = 4 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer);
  return fd;
}

bool send_all(int fd, const char* p, size_t n) {
  while (n) {
    ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

// Reads one response; returns the status (0 on failure) and the body.
int read_response(int fd, std::string& buffer, std::string& body) {
  size_t end;
  while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
    char tmp[65536];
    ssize_t k = ::recv(fd, tmp, sizeof tmp, 0);
    if (k <= 0) return 0;
    buffer.append(tmp, static_cast<size_t>(k));
  }
  int status = std::atoi(buffer.c_str() + 9);
  size_t length = 0;
  std::string head = buffer.substr(0, end);
  for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t cl = head.find("content-length:");
  if (cl != std::string::npos) length = std::strtoull(head.c_str() + cl + 15, nullptr, 10);
  while (buffer.size() < end + 4 + length) {
    char tmp[65536];
    ssize_t k = ::recv(fd, tmp, sizeof tmp, 0);
    if (k <= 0) return 0;
    buffer.append(tmp, static_cast<size_t>(k));
  }
  body = buffer.substr(end + 4, length);
  buffer.erase(0, end + 4 + length);
  return status;
}

std::vector<std::string> lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The ETag header of a GET's reply, or "".
std::string fetch_etag(uint16_t port, const std::string& head) {
  int fd = connect_to(port);
  if (fd < 0) return "";
  std::string request = head + "Connection: close\r\n\r\n", reply;
  if (send_all(fd, request.data(), request.size())) {
    char tmp[65536];
    ssize_t k;
    while ((k = ::recv(fd, tmp, sizeof tmp, 0)) > 0) reply.append(tmp, static_cast<size_t>(k));
  }
  ::close(fd);
  std::string lower = reply.substr(0, reply.find("\r\n\r\n"));
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t at = lower.find("\r\netag:");
  if (at == std::string::npos) return "";
  size_t start = lower.find_first_not_of(' ', at + 7), end = lower.find("\r\n", at + 7);
  return reply.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

struct Totals {
  std::vector<double> latencies_ms;
  uint64_t errors = 0, bytes = 0;
};

// GETs over `connections` keep-alive connections driven by one epoll loop,
// cycling over `jobs` until the deadline.
Totals run_gets(uint16_t port, int connections, const std::vector<Job>& jobs, Clock::time_point deadline) {
  struct Conn {
    int fd = -1;
    std::string head;             // response head so far
    size_t body_left = SIZE_MAX;  // SIZE_MAX until the head is complete
    int status = 0;
    Clock::time_point started;
  };
  Totals totals;
  size_t next = 0;
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  std::vector<Conn> conns(static_cast<size_t>(connections));
  auto send_next = [&](size_t c) {
    Conn& k = conns[c];
    if (Clock::now() >= deadline) {
      ::close(k.fd);
      k.fd = -1;
      return;
    }
    const Job& job = jobs[next++ % jobs.size()];
    k.head.clear();
    k.body_left = SIZE_MAX;
    k.started = Clock::now();
    totals.bytes += job.head.size();
    if (!send_all(k.fd, job.head.data(), job.head.size())) {
      ++totals.errors;
      ::close(k.fd);
      k.fd = -1;
    }
  };
  int open = 0;
  for (size_t c = 0; c < conns.size(); ++c) {
    conns[c].fd = connect_to(port);
    if (conns[c].fd < 0) continue;
    epoll_event ev{EPOLLIN, {.u64 = c}};
    ::epoll_ctl(ep, EPOLL_CTL_ADD, conns[c].fd, &ev);
    ++open;
    send_next(c);
  }
  static char buf[1 << 18];
  epoll_event events[256];
  // Bounded: replies still missing 10 s after the deadline count as errors.
  const auto give_up = deadline + std::chrono::seconds(10);
  while (open > 0) {
    if (Clock::now() > give_up) {
      totals.errors += static_cast<uint64_t>(open);
      for (auto& k : conns)
        if (k.fd >= 0) ::close(k.fd);
      break;
    }
    int n = ::epoll_wait(ep, events, 256, 1000);
    for (int e = 0; e < n; ++e) {
      size_t c = events[e].data.u64;
      Conn& k = conns[c];
      if (k.fd < 0) continue;
      ssize_t got = ::recv(k.fd, buf, sizeof buf, 0);
      if (got <= 0) {  // the server closed: count it and stop this connection
        ++totals.errors;
        ::close(k.fd);
        k.fd = -1;
        --open;
        continue;
      }
      std::string_view data(buf, static_cast<size_t>(got));
      if (k.body_left == SIZE_MAX) {
        k.head.append(data);
        size_t end = k.head.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        k.status = std::atoi(k.head.c_str() + 9);
        std::string lower = k.head.substr(0, end);
        for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        size_t cl = lower.find("content-length:");
        size_t length = cl == std::string::npos ? 0 : std::strtoull(lower.c_str() + cl + 15, nullptr, 10);
        size_t already = k.head.size() - end - 4;
        k.body_left = length - std::min(length, already);
      } else {
        k.body_left -= std::min(k.body_left, data.size());
      }
      if (k.body_left != 0) continue;
      totals.latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - k.started).count());
      if ((k.status < 200 || k.status >= 300) && k.status != 304) ++totals.errors;
      send_next(c);
      if (k.fd < 0) --open;
    }
  }
  ::close(ep);
  return totals;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: see the comment at the top of load_client.cpp\n");
    return 2;
  }
  uint16_t port = static_cast<uint16_t>(std::atoi(argv[1]));
  int connections = std::atoi(argv[2]);
  double seconds = std::atof(argv[3]);
  std::string mode = argv[4];
  const char* extra = std::getenv("LOAD_CLIENT_HEADER");
  std::string host_line = "Host: x\r\n";
  if (extra) host_line.append(extra).append("\r\n");
  std::vector<Job> jobs;
  std::vector<std::string> bodies, names;
  std::string id_out;
  if (mode == "post") {
    for (const auto& line : lines(argv[5])) {
      size_t tab = line.find('\t');
      std::string path = line.substr(0, tab), body = tab == std::string::npos ? "" : line.substr(tab + 1);
      jobs.push_back({"POST " + path + " HTTP/1.1\r\n" + host_line +
                          "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\n\r\n" + body,
                      nullptr});
    }
  } else if (mode == "get" || mode == "get-revalidate") {
    for (const auto& url : lines(argv[5])) {
      std::string head = "GET " + url + " HTTP/1.1\r\n" + host_line;
      if (mode == "get-revalidate") {
        std::string etag = fetch_etag(port, head);
        if (!etag.empty()) head += "If-None-Match: " + etag + "\r\n";
      }
      jobs.push_back({head + "\r\n", nullptr});
    }
  } else {
    bool orthanc = mode == "upload-orthanc", stow = mode == "upload-stow";
    names = lines(orthanc || stow ? argv[5] : argv[6]);
    if (orthanc && argc > 6) id_out = argv[6];
    bodies.reserve(names.size());
    const std::string boundary = "----dicomdLoadBoundary";
    for (const auto& path : names) {
      std::string data = read_file(path);
      if (orthanc) {
        bodies.push_back(std::move(data));
      } else if (stow) {
        bodies.push_back("--" + boundary + "\r\nContent-Type: application/dicom\r\n\r\n" + data + "\r\n--" + boundary +
                         "--\r\n");
      } else {
        std::string file = path.substr(path.rfind('/') + 1);
        bodies.push_back("--" + boundary + "\r\nContent-Disposition: form-data; name=\"study\"\r\n\r\n" + argv[5] +
                         "\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"" +
                         file + "\"\r\nContent-Type: application/dicom\r\n\r\n" + data + "\r\n--" + boundary +
                         "--\r\n");
      }
    }
    for (const auto& b : bodies) {
      std::string head =
          orthanc ? "POST /instances HTTP/1.1\r\n" + host_line + "Content-Type: application/dicom\r\n"
          : stow  ? "POST /dicom-web/studies HTTP/1.1\r\n" + host_line + "Accept: application/dicom+json\r\n" +
                       "Content-Type: multipart/related; type=\"application/dicom\"; boundary=" + boundary + "\r\n"
                 : "POST /upload HTTP/1.1\r\n" + host_line + "Content-Type: multipart/form-data; boundary=" + boundary +
                       "\r\n";
      jobs.push_back({head + "Content-Length: " + std::to_string(b.size()) + "\r\n\r\n", &b});
    }
  }
  if (jobs.empty()) return 2;

  std::atomic<size_t> next{0};
  std::atomic<uint64_t> bytes{0}, errors{0};
  std::mutex mutex;
  std::vector<double> latencies;
  std::vector<std::string> ids;
  bool cycle = mode == "get" || mode == "get-revalidate" || mode == "post";
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration<double>(seconds);
  double cpu_start = cpu_seconds();
  if (cycle) {
    Totals t = run_gets(port, connections, jobs, std::chrono::time_point_cast<Clock::duration>(deadline));
    latencies = std::move(t.latencies_ms);
    errors = t.errors;
    bytes = t.bytes;
  }
  auto worker = [&] {
    int fd = connect_to(port);
    std::string buffer, body;
    std::vector<double> mine;
    while (fd >= 0) {
      size_t i = next++;
      if (cycle ? Clock::now() >= deadline : i >= jobs.size()) break;
      const Job& job = jobs[i % jobs.size()];
      auto t0 = Clock::now();
      bool ok = send_all(fd, job.head.data(), job.head.size()) &&
                (!job.body || send_all(fd, job.body->data(), job.body->size()));
      int status = ok ? read_response(fd, buffer, body) : 0;
      mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      bytes += job.head.size() + (job.body ? job.body->size() : 0);
      if (status < 200 || status >= 300) {
        ++errors;
        if (status == 0) {  // connection lost: reconnect
          ::close(fd);
          fd = connect_to(port);
          buffer.clear();
        }
      } else if (!id_out.empty()) {
        size_t at = body.find("\"ID\"");
        size_t q1 = body.find('"', body.find(':', at) + 1), q2 = body.find('"', q1 + 1);
        if (at != std::string::npos) {
          std::lock_guard lock(mutex);
          ids.push_back(body.substr(q1 + 1, q2 - q1 - 1));
        }
      }
    }
    if (fd >= 0) ::close(fd);
    std::lock_guard lock(mutex);
    latencies.insert(latencies.end(), mine.begin(), mine.end());
  };
  std::vector<std::thread> threads;
  for (int c = 0; c < connections && !cycle; ++c) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  double wall = std::chrono::duration<double>(Clock::now() - start).count();
  double cpu = cpu_seconds() - cpu_start;
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty() ? 0 : latencies[std::min(latencies.size() - 1, static_cast<size_t>(p * latencies.size()))];
  };
  if (!id_out.empty()) {
    std::ofstream out(id_out);
    for (const auto& id : ids) out << id << "\n";
  }
  std::printf(
      "{\"requests\":%zu,\"errors\":%llu,\"seconds\":%.3f,\"rps\":%.1f,\"mbps\":%.1f,\"p50_ms\":%.2f,"
      "\"p99_ms\":%.2f,\"client_cpu_pct\":%.1f}\n",
      latencies.size(), static_cast<unsigned long long>(errors.load()), wall, latencies.size() / wall,
      bytes.load() / wall / 1e6, pct(0.5), pct(0.99), 100.0 * cpu / wall);
  return 0;
}
