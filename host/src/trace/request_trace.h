// A request's trace (W3C Trace Context): its ids, taken from the client's
// `traceparent` header or made here, the spans of the work done for it
// (parse, filters, handler, worker jobs, and the spans plugins open with
// span_begin), and the log lines written while it was handled. The
// dispatcher makes one per request and sets it as the current trace of the
// thread that runs the request's filters and handler; what runs there
// (worker jobs, storage, the log) adds to it without being handed it.
// After the answer, the after-answer hooks see it all (sdk http.h
// dicomd_request_summary): traces-otlp exports it, errors-sentry reports
// its failures.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <dicomd/abi.h>

namespace dicomd::trace {

using Clock = std::chrono::steady_clock;

struct TraceParent {
  std::string trace_id;         // 32 lower-case hex digits, not all zero
  uint64_t parent_span_id = 0;  // never 0
  uint8_t flags = 0;
};
// A W3C traceparent header value; nullopt when it is not a valid one (the
// request then starts a new trace, as the recommendation says).
std::optional<TraceParent> parse_traceparent(std::string_view value);
// "00-<trace id>-<span id>-<flags>".
std::string format_traceparent(std::string_view trace_id, uint64_t span_id, uint8_t flags);
// Random, never 0; cheap (a per-thread generator seeded from the kernel).
uint64_t new_span_id();
std::string new_trace_id();
// Writes 16 lower-case hex digits of `id` at `out`.
void write_hex16(char* out, uint64_t id);
// 16 lower-case hex digits.
std::string hex16(uint64_t id);

class RequestTrace {
 public:
  // A span's name is kept inline, cut to kMaxNameBytes; `plugin` views a
  // plugin's name, which lives as long as the process.
  static constexpr size_t kMaxNameBytes = 31;
  struct Span {
    std::string_view name() const { return {name_bytes.data(), name_length}; }
    std::array<char, kMaxNameBytes> name_bytes;  // not zeroed: name_length says what is set
    uint8_t name_length = 0;
    bool open = true;
    int32_t status = DICOMD_OK;
    std::string_view plugin;
    uint64_t id = 0, parent = 0;
    Clock::time_point start, end;
    std::string detail;  // why it failed; empty (no allocation) otherwise
  };
  struct LogLine {
    uint64_t unix_ns = 0;
    int32_t level = 0;
    std::string source, message;
  };
  static constexpr size_t kInlineSpans = 6;   // a request's usual spans cost no allocation
  static constexpr size_t kMaxSpans = 64;     // more are not recorded (a loop over a study's files)
  static constexpr size_t kMaxDepth = 16;     // spans open at once
  static constexpr size_t kMaxLogLines = 32;  // the last ones are kept
  static constexpr size_t kMaxLogLineBytes = 512;

  // `traceparent`: the request's header, or null. `received`: when its
  // first byte arrived (the parse span's start); `now`: when it was complete.
  RequestTrace(const std::string* traceparent, Clock::time_point received, Clock::time_point now);

  // A span inside the innermost open one (or the request's), begun now:
  // its token for end(), 0 when kMaxSpans are recorded or kMaxDepth open.
  // `plugin` must outlive the trace (a plugin's name, or "").
  size_t begin(std::string_view name, std::string_view plugin);
  void end(size_t token, int32_t status = DICOMD_OK, std::string_view detail = {});
  // A span already over: [start, end].
  void add(std::string_view name, Clock::time_point start, Clock::time_point end);
  // The id of the innermost open span (the request's when none): a job
  // begun now runs under it.
  uint64_t innermost_span_id() const;
  void add_log_line(int32_t level, std::string_view source, std::string_view message);

  std::string_view trace_id() const { return {trace_id_.data(), trace_id_.size()}; }
  uint64_t span_id() const { return span_id_; }
  uint64_t parent_span_id() const { return parent_span_id_; }
  uint8_t flags() const { return flags_; }
  bool has_traceparent() const { return has_traceparent_; }
  Clock::time_point received() const { return received_; }
  size_t span_count() const { return count_; }
  const Span& span(size_t i) const { return i < kInlineSpans ? inline_[i] : more_[i - kInlineSpans]; }
  const std::vector<LogLine>& log_lines() const { return log_lines_; }
  // Unix nanoseconds of a steady time point (the clocks' offset is read
  // once per trace, when first needed: most traces never need it).
  uint64_t unix_ns(Clock::time_point t) const;

 private:
  Span* push(std::string_view name);
  Span& at(size_t i) { return i < kInlineSpans ? inline_[i] : more_[i - kInlineSpans]; }

  std::array<char, 32> trace_id_{};  // inline: no allocation per request
  uint64_t span_id_ = 0, parent_span_id_ = 0;
  uint8_t flags_ = 0;
  bool has_traceparent_ = false;
  Clock::time_point received_;
  mutable int64_t unix_minus_steady_ns_ = 0;
  mutable bool offset_known_ = false;
  std::array<Span, kInlineSpans> inline_;
  std::vector<Span> more_;
  size_t count_ = 0;
  std::array<uint8_t, kMaxDepth> open_{};  // indexes of open spans, innermost last
  size_t depth_ = 0;
  std::vector<LogLine> log_lines_;
};

// The trace of the request this thread serves, or null.
RequestTrace* current();

// Sets the current trace of this thread while it lives.
class Scope {
 public:
  explicit Scope(RequestTrace* trace);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  RequestTrace* previous_;
};

// Where failures outside any request go (a "host.error" event, set by the
// app once the event bus exists): `source` is the plugin, `what` says what
// failed ("worker", "start-up", a span's name).
using FailureSink = void (*)(void* ctx, std::string_view source, int32_t status, std::string_view what,
                             std::string_view detail);
void set_failure_sink(FailureSink sink, void* ctx);
// Hands a failure to the sink when this thread serves no request (inside
// one, the failed span carries it to the after-answer hooks). True when it
// went to the sink.
bool report_outside_request(std::string_view source, int32_t status, std::string_view what, std::string_view detail);

}  // namespace dicomd::trace
