// A background sender for telemetry (error events, trace batches): the
// caller offers a body and returns at once; one thread POSTs the bodies in
// order with libcurl, one connection kept alive. The queue is bounded: a
// body offered while it is full is dropped and counted, so a collector
// that is down or slow costs memory up to the cap and never a request's
// time. Every transfer has a connect and a total timeout. A 429 or 503
// with Retry-After pauses sending for that long (at most a minute).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace dicomd::exporter {

struct ExporterOptions {
  std::string url;                   // where to POST
  std::string content_type;          // of every body
  std::vector<std::string> headers;  // extra "Name: value" lines
  bool gzip = false;                 // compress each body (Content-Encoding: gzip), on the sender's thread
  size_t max_queue = 100;            // bodies waiting; more are dropped
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds timeout{5000};  // a whole transfer
  // When set, called on the sender's thread about this often (to send a
  // batch that did not fill up).
  std::chrono::milliseconds tick_interval{0};
  std::function<void()> on_tick;
};

// What became of a body, for the plugin's counters.
enum class Outcome { kSent, kFailed, kDroppedQueueFull, kDroppedAtExit };
std::string_view outcome_name(Outcome outcome);

class HttpExporter {
 public:
  using Report = std::function<void(Outcome, std::string_view detail)>;  // detail: why it failed
  HttpExporter(ExporterOptions options, Report report);
  // Sends what is queued for at most the drain time given to drain(), or
  // 2 s, then stops; what is left is dropped (counted).
  ~HttpExporter();
  HttpExporter(const HttpExporter&) = delete;
  HttpExporter& operator=(const HttpExporter&) = delete;

  // Any thread, never blocks on the network. False: dropped (queue full).
  bool offer(std::string body);
  // The body as pieces, sent one after the other: a batch handed over
  // without being joined (the caller's thread copies nothing).
  bool offer(std::vector<std::string> pieces);
  // Waits until the queue is empty and nothing is being sent, or the timeout.
  bool idle_within(std::chrono::milliseconds timeout);
  size_t queued() const;
  // For a kFailed report (made on the sender's thread only): true at most
  // once a minute, so a collector that is down is logged, not flooded.
  bool failure_worth_logging();

 private:
  using Body = std::vector<std::string>;
  void run();
  bool send(const Body& body, void* curl, void* header_list);
  // The body joined and gzip-compressed (libdeflate, level 1: the sender's
  // CPU for a tenth of the bytes on the wire).
  Body compressed(const Body& body);

  ExporterOptions options_;
  Report report_;
  mutable std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::deque<Body> queue_;
  bool sending_ = false;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point stop_deadline_{};
  std::chrono::steady_clock::time_point paused_until_{};
  std::chrono::steady_clock::time_point failure_logged_{};  // the sender's thread only
  void* compressor_ = nullptr;                              // libdeflate's, the sender thread's only
  std::thread thread_;
};

// The seconds of a Retry-After header value (delta-seconds only), capped at 60.
std::chrono::seconds retry_after(std::string_view value);

}  // namespace dicomd::exporter
