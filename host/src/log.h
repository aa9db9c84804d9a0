// The host's log: one line per message, as text ("time level [source]
// message request_id=…") or as one JSON object per line (docs/operations.md).
// Lines written while a request is being handled carry its id: the
// dispatcher opens a RequestScope around the filters, the handler and the
// after-answer hooks, so plugins' lines and the host's own (a worker
// replaced during the job) name the request without passing it around.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dicomd::log {

enum class Level { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };
enum class Format { kText, kJson };

void set_level(Level level);
bool enabled(Level level);
void set_format(Format format);
// "text" or "json"; false for anything else.
bool set_format(std::string_view name);

// Appends lines to `path` instead of stderr, and points stderr (fd 2) at it
// too, so worker processes started from now on write there as well.
// Throws std::runtime_error naming the file.
void open_file(const std::string& path);
// Opens the file again (after logrotate moved it away): SIGHUP. Returns
// false, the old file kept, when it cannot; true without a file.
bool reopen();

// Lines are written at once by default. After start_buffering, access
// lines wait up to ~100 ms in memory and go out in one write (the access
// log costs one syscall per batch, not one per request); every other line
// still goes out at once, after the access lines before it. stop_buffering
// flushes.
void start_buffering();
void stop_buffering();

void write(Level level, std::string_view source, std::string_view message);

inline void error(std::string_view source, std::string_view m) {
  write(Level::kError, source, m);
}
inline void warn(std::string_view source, std::string_view m) {
  write(Level::kWarn, source, m);
}
inline void info(std::string_view source, std::string_view m) {
  write(Level::kInfo, source, m);
}
inline void debug(std::string_view source, std::string_view m) {
  write(Level::kDebug, source, m);
}

// Lines written on a thread serving a request with a trace
// (trace/request_trace.h) also carry its trace id, and are kept as the
// request's breadcrumbs.
// One access-log line: the route pattern, never the raw URL (it may hold
// names of patients' files); the subject only when auth set one.
struct Access {
  std::string_view method, route, request_id, subject;
  int status = 0;
  uint64_t bytes_in = 0, bytes_out = 0;
  double duration_ms = 0;
  std::string_view trace_id;  // the request's W3C trace id; empty: none
};
void access(const Access& a);

// Lines written on this thread while the scope lives carry `request_id`
// (a view: it must outlive the scope).
class RequestScope {
 public:
  explicit RequestScope(std::string_view request_id);
  ~RequestScope();
  RequestScope(const RequestScope&) = delete;
  RequestScope& operator=(const RequestScope&) = delete;

 private:
  std::string_view previous_;
};

// Text made safe for one JSON string (quotes, controls, invalid UTF-8).
void append_json_string(std::string& out, std::string_view text);

}  // namespace dicomd::log
