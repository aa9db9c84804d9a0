#include "log.h"

#include "trace/request_trace.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace dicomd::log {
namespace {

constexpr size_t kFlushBytes = 64 << 10;  // a batch larger than this goes out at once
constexpr auto kFlushInterval = std::chrono::milliseconds(100);

// The host's one log: settings, the open file and the lines waiting in
// memory while buffering.
struct Sink {
  std::atomic<int> level{static_cast<int>(Level::kInfo)};
  std::atomic<bool> json{false};
  std::mutex mutex;
  int fd = 2;        // stderr, or the log file
  std::string path;  // empty: stderr
  std::string pending;
  bool buffering = false;
  bool stop_flusher = false;
  std::condition_variable wake;
  std::thread flusher;

  ~Sink() {  // a process that exits without stop_buffering still writes what waits
    if (!flusher.joinable()) return;
    {
      std::lock_guard lock(mutex);
      stop_flusher = true;
    }
    wake.notify_all();
    flusher.join();
    flush_locked_at_exit();
  }
  void flush_locked_at_exit();
};

Sink& sink() {
  static Sink s;  // the host's log registry
  return s;
}

thread_local std::string_view t_request_id;

const char* name(Level level) {
  switch (level) {
    case Level::kError:
      return "error";
    case Level::kWarn:
      return "warn";
    case Level::kInfo:
      return "info";
    case Level::kDebug:
      return "debug";
  }
  return "?";
}

void write_fd(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a full disk loses log lines, never requests
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void flush_locked(Sink& s) {
  write_fd(s.fd, s.pending);
  s.pending.clear();
}

void Sink::flush_locked_at_exit() {
  write_fd(fd, pending);
  pending.clear();
}

// "2026-12-07T10:00:00.123Z". The seconds are formatted once per second
// and thread (gmtime and strftime were a third of an access line's cost).
void append_timestamp(std::string& out) {
  thread_local int64_t cached_second = -1;
  thread_local char cached[24];
  auto ms_since_epoch =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  int64_t second = ms_since_epoch / 1000;
  if (second != cached_second) {
    std::time_t t = static_cast<std::time_t>(second);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_second = second;
  }
  int ms = static_cast<int>(ms_since_epoch % 1000);
  out += cached;
  out += '.';
  out += static_cast<char>('0' + ms / 100);
  out += static_cast<char>('0' + ms / 10 % 10);
  out += static_cast<char>('0' + ms % 10);
  out += 'Z';
}

void append_uint(std::string& out, uint64_t value) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
}

// 1.234: milliseconds with three decimals.
void append_ms(std::string& out, double ms) {
  char digits[32];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, ms, std::chars_format::fixed, 3).ptr);
}

// Control characters from plugin text are shown, not interpreted.
void append_text(std::string& out, std::string_view text) {
  for (unsigned char c : text) out += (c < 0x20 && c != '\t') || c == 0x7f ? '?' : static_cast<char>(c);
}

// Length of the valid UTF-8 sequence at the start of `s`, or 0.
size_t utf8_length(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = byte(0);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || n > s.size() || (n == 2 && c < 0xc2)) return 0;
  for (size_t i = 1; i < n; ++i)
    if ((byte(i) & 0xc0) != 0x80) return 0;
  if (n == 3 && ((c == 0xe0 && byte(1) < 0xa0) || (c == 0xed && byte(1) >= 0xa0))) return 0;  // overlong, surrogate
  if (n == 4 && ((c == 0xf0 && byte(1) < 0x90) || c > 0xf4 || (c == 0xf4 && byte(1) >= 0x90))) return 0;
  return n;
}

// Access lines may wait (batched); any other line goes out at once, after
// the access lines before it, so the log keeps its order.
void emit(std::string line, bool may_wait) {
  Sink& s = sink();
  std::lock_guard lock(s.mutex);
  if (s.pending.empty())
    s.pending = std::move(line);  // the usual case: no copy
  else
    s.pending += line;
  if (!s.buffering || !may_wait || s.pending.size() >= kFlushBytes) flush_locked(s);
}

void append_field(std::string& out, const char* key, std::string_view value) {
  out += ",\"";
  out += key;
  out += "\":";
  append_json_string(out, value);
}

void append_number(std::string& out, const char* key, uint64_t value) {
  out += ",\"";
  out += key;
  out += "\":";
  append_uint(out, value);
}

}  // namespace

void set_level(Level level) {
  sink().level = static_cast<int>(level);
}
bool enabled(Level level) {
  return static_cast<int>(level) <= sink().level.load(std::memory_order_relaxed);
}
void set_format(Format format) {
  sink().json = format == Format::kJson;
}
bool set_format(std::string_view name) {
  if (name == "json")
    set_format(Format::kJson);
  else if (name == "text")
    set_format(Format::kText);
  else
    return false;
  return true;
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  while (!text.empty()) {
    // Plain printable ASCII, the usual case, goes in one append.
    size_t plain = 0;
    while (plain < text.size()) {
      unsigned char c = static_cast<unsigned char>(text[plain]);
      if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') break;
      ++plain;
    }
    out.append(text.data(), plain);
    text.remove_prefix(plain);
    if (text.empty()) break;
    unsigned char c = static_cast<unsigned char>(text[0]);
    size_t n = utf8_length(text);
    if (n == 0) {
      out += "\\ufffd";  // not UTF-8: the replacement character
      n = 1;
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out.append(text.data(), n);
    }
    text.remove_prefix(n);
  }
  out += '"';
}

void open_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) throw std::runtime_error("cannot open log file " + path + ": " + std::strerror(errno));
  Sink& s = sink();
  std::lock_guard lock(s.mutex);
  flush_locked(s);
  ::dup2(fd, 2);  // stderr too: what libraries and new workers print
  if (s.fd != 2) ::close(s.fd);
  s.fd = fd;
  s.path = path;
}

bool reopen() {
  Sink& s = sink();
  std::string path;
  {
    std::lock_guard lock(s.mutex);
    path = s.path;
  }
  if (path.empty()) return true;
  try {
    open_file(path);
    return true;
  } catch (const std::exception& e) {
    write(Level::kError, "dicomd", e.what());
    return false;
  }
}

void start_buffering() {
  Sink& s = sink();
  std::lock_guard lock(s.mutex);
  if (s.buffering) return;
  s.buffering = true;
  s.stop_flusher = false;
  s.flusher = std::thread([&s] {
    std::unique_lock lock(s.mutex);
    while (!s.stop_flusher) {
      s.wake.wait_for(lock, kFlushInterval);
      if (!s.pending.empty()) flush_locked(s);
    }
  });
}

void stop_buffering() {
  Sink& s = sink();
  std::thread flusher;
  {
    std::lock_guard lock(s.mutex);
    if (!s.buffering) return;
    s.buffering = false;
    s.stop_flusher = true;
    flusher = std::move(s.flusher);
  }
  s.wake.notify_all();
  flusher.join();
  std::lock_guard lock(s.mutex);
  flush_locked(s);
}

void write(Level level, std::string_view source, std::string_view message) {
  if (!enabled(level)) return;
  trace::RequestTrace* trace = trace::current();
  if (trace) trace->add_log_line(static_cast<int32_t>(level), source, message);  // breadcrumbs
  std::string line;
  line.reserve(message.size() + 96);
  if (sink().json) {
    line += "{\"ts\":\"";
    append_timestamp(line);
    line += "\",\"level\":\"";
    line += name(level);
    line += '"';
    append_field(line, "source", source);
    append_field(line, "msg", message);
    if (!t_request_id.empty()) append_field(line, "request_id", t_request_id);
    if (trace) append_field(line, "trace_id", trace->trace_id());
    line += "}\n";
  } else {
    append_timestamp(line);
    line += ' ';
    line += name(level);
    line += " [";
    append_text(line, source);
    line += "] ";
    append_text(line, message);
    if (!t_request_id.empty()) {
      line += " request_id=";
      line += t_request_id;
    }
    if (trace) {
      line += " trace_id=";
      line.append(trace->trace_id());
    }
    line += '\n';
  }
  emit(std::move(line), false);
}

void access(const Access& a) {
  if (!enabled(Level::kInfo)) return;
  std::string line;
  line.reserve(256);
  if (sink().json) {
    line += "{\"ts\":\"";
    append_timestamp(line);
    line += "\",\"level\":\"info\",\"source\":\"access\",\"msg\":\"request\"";
    append_field(line, "request_id", a.request_id);
    if (!a.trace_id.empty()) append_field(line, "trace_id", a.trace_id);
    append_field(line, "method", a.method);
    if (a.route.empty())
      line += ",\"route\":null";
    else
      append_field(line, "route", a.route);
    append_number(line, "status", static_cast<uint64_t>(a.status));
    line += ",\"duration_ms\":";
    append_ms(line, a.duration_ms);
    append_number(line, "bytes_in", a.bytes_in);
    append_number(line, "bytes_out", a.bytes_out);
    if (!a.subject.empty()) append_field(line, "sub", a.subject);
    line += "}\n";
  } else {
    append_timestamp(line);
    line += " info [access] ";
    append_text(line, a.method);
    line += ' ';
    append_text(line, a.route.empty() ? std::string_view("(no route)") : a.route);
    line += ' ';
    append_uint(line, static_cast<uint64_t>(a.status));
    line += ' ';
    append_ms(line, a.duration_ms);
    line += " ms in=";
    append_uint(line, a.bytes_in);
    line += " out=";
    append_uint(line, a.bytes_out);
    line += " request_id=";
    append_text(line, a.request_id);
    if (!a.trace_id.empty()) {
      line += " trace_id=";
      append_text(line, a.trace_id);
    }
    if (!a.subject.empty()) {
      line += " sub=";
      append_text(line, a.subject);
    }
    line += '\n';
  }
  emit(std::move(line), true);
}

RequestScope::RequestScope(std::string_view request_id) : previous_(t_request_id) {
  t_request_id = request_id;
}
RequestScope::~RequestScope() {
  t_request_id = previous_;
}

}  // namespace dicomd::log
