#include "events/event_bus.h"

#include <algorithm>

#include "log.h"

namespace dicomd {

struct EventBus::Subscriber {
  std::string name;
  std::vector<std::unique_ptr<Handler>> handlers;  // one per topic subscribed
  std::mutex mutex;
  std::condition_variable changed;  // queue grew, an event finished, or stopping
  std::deque<Stored> queue;
  uint64_t last_queued = 0;    // sequence of the newest event queued here
  uint64_t last_finished = 0;  // sequence of the newest event handled or given up on
  bool stopping = false;
  std::chrono::steady_clock::time_point drain_deadline{};
  std::thread thread;
};

EventBus::EventBus(EventBusOptions options) : options_(options) {}

EventBus::~EventBus() {
  stop(std::chrono::milliseconds(0));
}

void EventBus::subscribe(std::string topic, std::string subscriber, Deliver deliver) {
  Subscriber* s = nullptr;
  for (auto& existing : subscribers_)
    if (existing->name == subscriber) s = existing.get();
  if (!s) {
    s = subscribers_.emplace_back(std::make_unique<Subscriber>()).get();
    s->name = std::move(subscriber);
  }
  s->handlers.push_back(std::make_unique<Handler>(Handler{std::move(topic), std::move(deliver)}));
}

dicomd_status EventBus::publish(std::string_view topic, std::string_view key, std::string_view payload) {
  uint64_t sequence = ++sequence_;
  dicomd_status status = DICOMD_OK;
  for (auto& s : subscribers_)
    for (const auto& handler : s->handlers) {
      if (handler->topic != topic) continue;
      std::lock_guard lock(s->mutex);
      if (s->queue.size() >= options_.max_queue) {
        log::error("dicomd", "event " + std::string(topic) + " " + std::string(key) + " dropped for " + s->name +
                                 ": its queue is full (" + std::to_string(options_.max_queue) + " events)");
        ++given_up_;
        status = DICOMD_E_TOO_LARGE;
        continue;
      }
      s->queue.push_back({handler.get(), std::string(key), std::string(payload), sequence});
      s->last_queued = sequence;
      s->changed.notify_all();
    }
  return status;
}

void EventBus::start() {
  if (started_) return;
  started_ = true;
  for (auto& s : subscribers_) s->thread = std::thread([this, sub = s.get()] { run(*sub); });
}

bool EventBus::flush(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto& s : subscribers_) {
    std::unique_lock lock(s->mutex);
    uint64_t target = s->last_queued;
    if (!s->changed.wait_until(lock, deadline, [&] { return s->last_finished >= target; })) return false;
  }
  return true;
}

void EventBus::stop(std::chrono::milliseconds drain) {
  auto deadline = std::chrono::steady_clock::now() + drain;
  for (auto& s : subscribers_) {
    std::lock_guard lock(s->mutex);
    s->stopping = true;
    s->drain_deadline = deadline;
    s->changed.notify_all();
  }
  for (auto& s : subscribers_)
    if (s->thread.joinable()) s->thread.join();
  for (auto& s : subscribers_) {
    if (!s->queue.empty())
      log::warn("dicomd", std::to_string(s->queue.size()) + " events for " + s->name +
                              " were not delivered before stopping (its reconcile repairs them)");
    s->queue.clear();
  }
}

uint64_t EventBus::published() const {
  return sequence_;
}
uint64_t EventBus::given_up() const {
  return given_up_;
}

void EventBus::run(Subscriber& s) {
  std::unique_lock lock(s.mutex);
  while (true) {
    s.changed.wait(lock, [&] { return s.stopping || !s.queue.empty(); });
    if (s.queue.empty()) return;  // stopping and drained
    if (s.stopping && std::chrono::steady_clock::now() >= s.drain_deadline) return;
    Stored event = std::move(s.queue.front());
    s.queue.pop_front();
    if (!deliver_with_retries(s, event, lock)) {
      ++given_up_;
      log::error("dicomd", s.name + " gave up on event " + event.handler->topic + " " + event.key + " after " +
                               std::to_string(options_.max_attempts) + " attempts");
    }
    s.last_finished = event.sequence;
    s.changed.notify_all();
  }
}

// Called and returns with the subscription's lock held; delivers without it.
bool EventBus::deliver_with_retries(Subscriber& s, const Stored& event, std::unique_lock<std::mutex>& lock) {
  auto backoff = options_.first_backoff;
  for (uint32_t attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    const std::string& topic = event.handler->topic;
    dicomd_event e{sizeof(dicomd_event),
                   {topic.data(), topic.size()},
                   {event.key.data(), event.key.size()},
                   {event.payload.data(), event.payload.size()},
                   event.sequence,
                   attempt};
    lock.unlock();
    dicomd_status status = event.handler->deliver(e);
    lock.lock();
    if (status == DICOMD_OK) return true;
    if (attempt == options_.max_attempts) break;
    // Wait before the next attempt; stopping cuts the wait short, and past
    // the drain deadline the event is given up on.
    s.changed.wait_for(lock, backoff, [&] { return s.stopping; });
    if (s.stopping && std::chrono::steady_clock::now() >= s.drain_deadline) return false;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  return false;
}

}  // namespace dicomd
