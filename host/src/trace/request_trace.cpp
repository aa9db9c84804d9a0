#include "trace/request_trace.h"

#include <algorithm>
#include <atomic>
#include <random>

namespace dicomd::trace {
namespace {

thread_local RequestTrace* t_current = nullptr;

struct FailureTarget {
  std::atomic<FailureSink> sink{nullptr};
  std::atomic<void*> ctx{nullptr};
};
FailureTarget& failure_target() {
  static FailureTarget target;  // the host's registry of where failures go
  return target;
}

// splitmix64 over a per-thread state seeded from the kernel: ids need to be
// unique and unguessable enough for tracing, not cryptographic, and this
// costs a nanosecond.
struct IdGenerator {
  uint64_t state = (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  uint64_t operator()() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
};
IdGenerator& generator() {
  thread_local IdGenerator g;
  return g;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is not valid in a traceparent
}

bool all_hex(std::string_view s) {
  for (char c : s)
    if (hex_digit(c) < 0) return false;
  return true;
}

bool all_zero(std::string_view s) {
  return s.find_first_not_of('0') == std::string_view::npos;
}

uint64_t parse_hex16(std::string_view s) {
  uint64_t v = 0;
  for (char c : s) v = v << 4 | static_cast<uint64_t>(hex_digit(c));
  return v;
}

int64_t unix_minus_steady(Clock::time_point steady_now) {
  auto unix_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto steady_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(steady_now.time_since_epoch()).count();
  return unix_ns - steady_ns;
}

}  // namespace

// version "-" trace-id "-" parent-id "-" flags; version 00 is exactly 55
// characters, a later version may append "-…" fields; ff is invalid.
std::optional<TraceParent> parse_traceparent(std::string_view v) {
  if (v.size() < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return std::nullopt;
  std::string_view version = v.substr(0, 2), trace_id = v.substr(3, 32), parent = v.substr(36, 16),
                   flags = v.substr(53, 2);
  if (!all_hex(version) || version == "ff" || !all_hex(trace_id) || !all_hex(parent) || !all_hex(flags))
    return std::nullopt;
  if (version == "00" ? v.size() != 55 : v.size() > 55 && v[55] != '-') return std::nullopt;
  if (all_zero(trace_id) || all_zero(parent)) return std::nullopt;
  return TraceParent{std::string(trace_id), parse_hex16(parent),
                     static_cast<uint8_t>(hex_digit(flags[0]) << 4 | hex_digit(flags[1]))};
}

void write_hex16(char* out, uint64_t id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i, id >>= 4) out[i] = kDigits[id & 15];
}

std::string hex16(uint64_t id) {
  std::string out(16, '0');
  write_hex16(out.data(), id);
  return out;
}

std::string format_traceparent(std::string_view trace_id, uint64_t span_id, uint8_t flags) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "00-";
  out += trace_id;
  out += '-';
  out += hex16(span_id);
  out += '-';
  out += kDigits[flags >> 4];
  out += kDigits[flags & 15];
  return out;
}

uint64_t new_span_id() {
  uint64_t id = 0;
  while (id == 0) id = generator()();
  return id;
}

std::string new_trace_id() {
  return hex16(new_span_id()) + hex16(generator()());
}

RequestTrace::RequestTrace(const std::string* traceparent, Clock::time_point received, Clock::time_point now)
    : span_id_(new_span_id()), received_(received) {
  std::optional<TraceParent> given = traceparent ? parse_traceparent(*traceparent) : std::nullopt;
  if (given) {
    std::copy(given->trace_id.begin(), given->trace_id.end(), trace_id_.begin());
    parent_span_id_ = given->parent_span_id;
    flags_ = given->flags;
    has_traceparent_ = true;
  } else {
    write_hex16(trace_id_.data(), new_span_id());  // never all zero
    write_hex16(trace_id_.data() + 16, generator()());
  }
  add("parse", received, now);
}

RequestTrace::Span* RequestTrace::push(std::string_view name) {
  if (count_ >= kMaxSpans) return nullptr;
  Span* s = count_ < kInlineSpans ? &inline_[count_] : &more_.emplace_back();
  ++count_;
  name = name.substr(0, kMaxNameBytes);
  std::copy(name.begin(), name.end(), s->name_bytes.begin());
  s->name_length = static_cast<uint8_t>(name.size());
  s->id = new_span_id();
  s->parent = innermost_span_id();
  return s;
}

size_t RequestTrace::begin(std::string_view name, std::string_view plugin) {
  if (depth_ >= kMaxDepth) return 0;
  Span* s = push(name);
  if (!s) return 0;
  s->plugin = plugin;
  s->start = Clock::now();
  open_[depth_++] = static_cast<uint8_t>(count_ - 1);
  return count_;
}

void RequestTrace::end(size_t token, int32_t status, std::string_view detail) {
  if (token == 0 || token > count_) return;
  Span& s = at(token - 1);
  if (!s.open) return;
  s.end = Clock::now();
  s.open = false;
  s.status = status;
  s.detail = detail;
  // Usually the innermost; a span ended out of order leaves the others open.
  for (size_t i = depth_; i-- > 0;)
    if (open_[i] == token - 1) {
      std::copy(open_.begin() + static_cast<std::ptrdiff_t>(i) + 1, open_.begin() + static_cast<std::ptrdiff_t>(depth_),
                open_.begin() + static_cast<std::ptrdiff_t>(i));
      --depth_;
      break;
    }
}

void RequestTrace::add(std::string_view name, Clock::time_point start, Clock::time_point end) {
  Span* s = push(name);
  if (!s) return;
  s->start = start;
  s->end = end;
  s->open = false;
}

uint64_t RequestTrace::innermost_span_id() const {
  return depth_ == 0 ? span_id_ : span(open_[depth_ - 1]).id;
}

void RequestTrace::add_log_line(int32_t level, std::string_view source, std::string_view message) {
  if (log_lines_.size() >= kMaxLogLines) log_lines_.erase(log_lines_.begin());  // the last ones tell the end
  LogLine& line = log_lines_.emplace_back();
  line.unix_ns = unix_ns(Clock::now());
  line.level = level;
  line.source = source;
  line.message = message.substr(0, kMaxLogLineBytes);
}

// The offset between the wall clock and the steady clock, read again by
// each thread at most every 100 ms: two clock reads per request were 2 %
// of a cached lookup. Between reads, an NTP slew (at most 500 ppm) moves
// the wall clock by 50 µs at most; durations never depend on it.
// `recent`: a time the caller has read already (no clock read when the
// cached offset is fresh).
static int64_t cached_unix_minus_steady(Clock::time_point recent) {
  thread_local Clock::time_point read_at{};
  thread_local int64_t offset = 0;
  if (read_at == Clock::time_point{} || recent - read_at > std::chrono::milliseconds(100)) {
    auto now = Clock::now();
    offset = unix_minus_steady(now);
    read_at = now;
  }
  return offset;
}

uint64_t RequestTrace::unix_ns(Clock::time_point t) const {
  if (!offset_known_) {  // one offset for all of a trace's times
    unix_minus_steady_ns_ = cached_unix_minus_steady(t);
    offset_known_ = true;
  }
  auto steady_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  return static_cast<uint64_t>(steady_ns + unix_minus_steady_ns_);
}

RequestTrace* current() {
  return t_current;
}

Scope::Scope(RequestTrace* trace) : previous_(t_current) {
  t_current = trace;
}
Scope::~Scope() {
  t_current = previous_;
}

void set_failure_sink(FailureSink sink, void* ctx) {
  failure_target().ctx = ctx;
  failure_target().sink = sink;
}

bool report_outside_request(std::string_view source, int32_t status, std::string_view what, std::string_view detail) {
  if (t_current) return false;
  FailureSink sink = failure_target().sink;
  if (!sink) return false;
  sink(failure_target().ctx, source, status, what, detail);
  return true;
}

}  // namespace dicomd::trace
