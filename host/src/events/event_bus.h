// Events between plugins (sdk host.h "events"): a publisher hands an event to
// the bus and returns at once; each subscribing plugin has a few lanes (a
// queue and a thread each) for all its topics, an event's key choosing its
// lane, so a slow or failing subscriber delays only itself, events of
// different keys are handled in parallel (an index parses several files at
// once), and the events of one key arrive in publish order across topics (a
// file's "removed" never overtakes its "stored"). A failed delivery is
// retried with backoff, then given up on with a log line: the subscriber's
// start-up reconcile repairs what it missed, as it does after a kill -9,
// which loses whatever was still queued.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <dicomd/host.h>

namespace dicomd {

struct EventBusOptions {
  size_t lanes = 4;                             // queues and threads per subscriber
  size_t max_queue = 100000;                    // events waiting per lane
  uint32_t max_attempts = 5;                    // deliveries of one event before giving up
  std::chrono::milliseconds first_backoff{50};  // doubled after each failed attempt
  std::chrono::milliseconds max_backoff{2000};
};

class EventBus {
 public:
  using Deliver = std::function<dicomd_status(const dicomd_event&)>;

  explicit EventBus(EventBusOptions options = {});
  ~EventBus();
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  // Before start(). Subscriptions with one `subscriber` name (a plugin)
  // share its queue and thread; the name is also used in log lines.
  void subscribe(std::string topic, std::string subscriber, Deliver deliver);
  // Any thread. DICOMD_E_TOO_LARGE when some subscriber's queue was full.
  dicomd_status publish(std::string_view topic, std::string_view key, std::string_view payload);
  // Starts delivering (events published before are kept and delivered now).
  void start();
  // Waits until every event published before the call was handled or given
  // up on; false on timeout.
  bool flush(std::chrono::milliseconds timeout);
  // Delivers what is queued (up to `drain`), then stops the threads.
  void stop(std::chrono::milliseconds drain);

  uint64_t published() const;
  uint64_t given_up() const;

 private:
  struct Handler {
    std::string topic;
    Deliver deliver;
  };
  struct Stored {
    const Handler* handler;
    std::string key, payload;
    uint64_t sequence;
  };
  struct Lane;
  struct Subscriber;

  void run(Subscriber& s, Lane& lane);
  bool deliver_with_retries(Lane& lane, const Stored& event, std::unique_lock<std::mutex>& lock);

  EventBusOptions options_;
  std::vector<std::unique_ptr<Subscriber>> subscribers_;
  std::atomic<uint64_t> sequence_{0};
  std::atomic<uint64_t> given_up_{0};
  bool started_ = false;
};

}  // namespace dicomd
