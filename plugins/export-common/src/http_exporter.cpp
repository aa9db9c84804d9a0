#include "http_exporter.h"

#include <curl/curl.h>
#include <libdeflate.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

namespace dicomd::exporter {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kDefaultDrain = std::chrono::seconds(2);

struct Transfer {
  std::string retry_after;
  const std::vector<std::string>* pieces = nullptr;
  size_t piece = 0, offset = 0;  // where the upload has got to
};

// libcurl's read callback: the next bytes of the body's pieces.
size_t read_body(char* buffer, size_t size, size_t count, void* ctx) {
  auto* t = static_cast<Transfer*>(ctx);
  size_t room = size * count, written = 0;
  while (written < room && t->piece < t->pieces->size()) {
    const std::string& p = (*t->pieces)[t->piece];
    size_t n = std::min(room - written, p.size() - t->offset);
    std::copy_n(p.data() + t->offset, n, buffer + written);
    written += n;
    t->offset += n;
    if (t->offset == p.size()) {
      ++t->piece;
      t->offset = 0;
    }
  }
  return written;
}

size_t discard_body(char*, size_t size, size_t count, void*) {
  return size * count;
}

size_t read_header(char* data, size_t size, size_t count, void* ctx) {
  std::string_view line(data, size * count);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (size_t i = 0; i < kName.size() && match; ++i)
      match = static_cast<char>(std::tolower(static_cast<unsigned char>(line[i]))) == kName[i];
    if (match) static_cast<Transfer*>(ctx)->retry_after = std::string(line.substr(kName.size()));
  }
  return size * count;
}

}  // namespace

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kSent:
      return "sent";
    case Outcome::kFailed:
      return "send_failed";
    case Outcome::kDroppedQueueFull:
      return "queue_full";
    case Outcome::kDroppedAtExit:
      return "at_exit";
  }
  return "?";
}

std::chrono::seconds retry_after(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  unsigned seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end == value.data()) return std::chrono::seconds(0);
  return std::chrono::seconds(std::min(seconds, 60u));
}

HttpExporter::HttpExporter(ExporterOptions options, Report report)
    : options_(std::move(options)), report_(std::move(report)) {
  curl_global_init(CURL_GLOBAL_DEFAULT);  // reference-counted, thread-safe in Debian 12's libcurl
  thread_ = std::thread([this] { run(); });
}

HttpExporter::~HttpExporter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    stop_deadline_ = Clock::now() + kDefaultDrain;
  }
  wake_.notify_all();
  thread_.join();
  for (size_t i = 0; i < queue_.size(); ++i) report_(Outcome::kDroppedAtExit, "");
  curl_global_cleanup();
}

bool HttpExporter::offer(std::string body) {
  Body pieces;
  pieces.push_back(std::move(body));
  return offer(std::move(pieces));
}

bool HttpExporter::offer(std::vector<std::string> body) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= options_.max_queue) {
      report_(Outcome::kDroppedQueueFull, "");
      return false;
    }
    queue_.push_back(std::move(body));
  }
  wake_.notify_one();
  return true;
}

bool HttpExporter::idle_within(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [this] { return queue_.empty() && !sending_; });
}

bool HttpExporter::failure_worth_logging() {
  auto now = Clock::now();
  if (failure_logged_ != Clock::time_point{} && now - failure_logged_ < std::chrono::minutes(1)) return false;
  failure_logged_ = now;
  return true;
}

size_t HttpExporter::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void HttpExporter::run() {
  // Telemetry yields to requests: the sender runs only on a core nothing
  // else wants (SCHED_IDLE), never in a request thread's place. On a
  // machine busy for long, its queue fills and what comes next is dropped,
  // counted. (At nice 10 instead, it still took the 2-core benchmark's
  // reactor thread off its core: +8 % CPU per cached lookup at 10 %
  // sampling.)
  sched_param idle{};
  if (::pthread_setschedparam(::pthread_self(), SCHED_IDLE, &idle) != 0)
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19);
  CURL* curl = curl_easy_init();
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("Content-Type: " + options_.content_type).c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  for (const auto& h : options_.headers) headers = curl_slist_append(headers, h.c_str());
  if (options_.gzip) {
    headers = curl_slist_append(headers, "Content-Encoding: gzip");
    compressor_ = libdeflate_alloc_compressor(1);
  }
  auto next_tick = Clock::now() + options_.tick_interval;
  std::unique_lock lock(mutex_);
  while (true) {
    auto now = Clock::now();
    bool can_send = !queue_.empty() && now >= paused_until_;
    if (stopping_ && (queue_.empty() || now >= stop_deadline_ || now < paused_until_)) break;
    if (!can_send) {
      auto until = Clock::time_point::max();
      if (options_.on_tick) until = next_tick;
      if (!queue_.empty()) until = std::min(until, paused_until_);
      if (stopping_) until = std::min(until, stop_deadline_);
      idle_.notify_all();
      if (until == Clock::time_point::max())
        wake_.wait(lock);
      else
        wake_.wait_until(lock, until);
    }
    if (options_.on_tick && Clock::now() >= next_tick) {
      lock.unlock();
      options_.on_tick();  // may offer(): the lock is not held
      lock.lock();
      next_tick = Clock::now() + options_.tick_interval;
      continue;
    }
    if (queue_.empty() || Clock::now() < paused_until_) continue;
    Body body = std::move(queue_.front());
    queue_.pop_front();
    sending_ = true;
    lock.unlock();
    if (options_.gzip) body = compressed(body);
    send(body, curl, headers);
    lock.lock();
    sending_ = false;
  }
  idle_.notify_all();
  lock.unlock();
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (compressor_) libdeflate_free_compressor(static_cast<libdeflate_compressor*>(compressor_));
}

HttpExporter::Body HttpExporter::compressed(const Body& body) {
  std::string joined;
  size_t length = 0;
  for (const auto& piece : body) length += piece.size();
  joined.reserve(length);
  for (const auto& piece : body) joined += piece;
  auto* c = static_cast<libdeflate_compressor*>(compressor_);
  std::string out(libdeflate_gzip_compress_bound(c, joined.size()), '\0');
  out.resize(libdeflate_gzip_compress(c, joined.data(), joined.size(), out.data(), out.size()));
  Body result;
  result.push_back(std::move(out));
  return result;
}

bool HttpExporter::send(const Body& body, void* handle, void* header_list) {
  CURL* curl = static_cast<CURL*>(handle);
  Transfer transfer;
  transfer.pieces = &body;
  curl_off_t length = 0;
  for (const auto& piece : body) length += static_cast<curl_off_t>(piece.size());
  curl_easy_setopt(curl, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(header_list));
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_body);
  curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, length);
  // A batch in few large writes: each write wakes the collector, and a
  // sender at SCHED_IDLE pays a context switch per write.
  curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, 1L << 20);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: we are one thread of many
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, read_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  // A transfer still running when the drain time is over is abandoned: a
  // slow collector must not hold up the server's exit.
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, this);
  curl_easy_setopt(
      curl, CURLOPT_XFERINFOFUNCTION, +[](void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
        auto* exporter = static_cast<HttpExporter*>(self);
        std::lock_guard lock(exporter->mutex_);
        return exporter->stopping_ && Clock::now() >= exporter->stop_deadline_ ? 1 : 0;
      });
  CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (code != CURLE_OK) {
    report_(Outcome::kFailed, curl_easy_strerror(code));
    return false;
  }
  if (status == 429 || status == 503) {
    auto pause = retry_after(transfer.retry_after);
    std::lock_guard lock(mutex_);
    paused_until_ = Clock::now() + (pause.count() > 0 ? pause : std::chrono::seconds(1));
  }
  if (status < 200 || status >= 300) {
    report_(Outcome::kFailed, "HTTP " + std::to_string(status));
    return false;
  }
  report_(Outcome::kSent, "");
  return true;
}

}  // namespace dicomd::exporter
