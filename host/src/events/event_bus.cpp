#include "events/event_bus.h"

#include <algorithm>

#include "log.h"

namespace dicomd {

// One queue and thread of a subscriber: the events of the keys that hash
// to it, in publish order.
struct EventBus::Lane {
  std::mutex mutex;
  std::condition_variable changed;  // queue grew, an event finished, or stopping
  std::deque<Stored> queue;
  uint64_t last_queued = 0;    // sequence of the newest event queued here
  uint64_t last_finished = 0;  // sequence of the newest event handled or given up on
  bool stopping = false;
  std::chrono::steady_clock::time_point drain_deadline{};
  std::thread thread;
};

struct EventBus::Subscriber {
  std::string name;
  std::vector<std::unique_ptr<Handler>> handlers;  // one per topic subscribed
  std::vector<std::unique_ptr<Lane>> lanes;
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
    for (size_t i = 0; i < std::max<size_t>(1, options_.lanes); ++i) s->lanes.push_back(std::make_unique<Lane>());
  }
  s->handlers.push_back(std::make_unique<Handler>(Handler{std::move(topic), std::move(deliver)}));
}

dicomd_status EventBus::publish(std::string_view topic, std::string_view key, std::string_view payload) {
  uint64_t sequence = ++sequence_;
  dicomd_status status = DICOMD_OK;
  size_t hash = std::hash<std::string_view>{}(key);
  for (auto& s : subscribers_)
    for (const auto& handler : s->handlers) {
      if (handler->topic != topic) continue;
      Lane& lane = *s->lanes[hash % s->lanes.size()];
      std::lock_guard lock(lane.mutex);
      if (lane.queue.size() >= options_.max_queue) {
        log::error("dicomd", "event " + std::string(topic) + " " + std::string(key) + " dropped for " + s->name +
                                 ": its queue is full (" + std::to_string(options_.max_queue) + " events)");
        ++given_up_;
        status = DICOMD_E_TOO_LARGE;
        continue;
      }
      lane.queue.push_back({handler.get(), std::string(key), std::string(payload), sequence});
      lane.last_queued = sequence;
      lane.changed.notify_all();
    }
  return status;
}

void EventBus::start() {
  if (started_) return;
  started_ = true;
  for (auto& s : subscribers_)
    for (auto& lane : s->lanes) lane->thread = std::thread([this, sub = s.get(), l = lane.get()] { run(*sub, *l); });
}

bool EventBus::flush(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto& s : subscribers_)
    for (auto& lane : s->lanes) {
      std::unique_lock lock(lane->mutex);
      uint64_t target = lane->last_queued;
      if (!lane->changed.wait_until(lock, deadline, [&] { return lane->last_finished >= target; })) return false;
    }
  return true;
}

void EventBus::stop(std::chrono::milliseconds drain) {
  auto deadline = std::chrono::steady_clock::now() + drain;
  for (auto& s : subscribers_)
    for (auto& lane : s->lanes) {
      std::lock_guard lock(lane->mutex);
      lane->stopping = true;
      lane->drain_deadline = deadline;
      lane->changed.notify_all();
    }
  for (auto& s : subscribers_)
    for (auto& lane : s->lanes)
      if (lane->thread.joinable()) lane->thread.join();
  for (auto& s : subscribers_) {
    size_t left = 0;
    for (auto& lane : s->lanes) {
      left += lane->queue.size();
      lane->queue.clear();
    }
    if (left)
      log::warn("dicomd", std::to_string(left) + " events for " + s->name +
                              " were not delivered before stopping (its reconcile repairs them)");
  }
}

uint64_t EventBus::published() const {
  return sequence_;
}
uint64_t EventBus::given_up() const {
  return given_up_;
}

void EventBus::run(Subscriber& s, Lane& lane) {
  std::unique_lock lock(lane.mutex);
  while (true) {
    lane.changed.wait(lock, [&] { return lane.stopping || !lane.queue.empty(); });
    if (lane.queue.empty()) return;  // stopping and drained
    if (lane.stopping && std::chrono::steady_clock::now() >= lane.drain_deadline) return;
    Stored event = std::move(lane.queue.front());
    lane.queue.pop_front();
    if (!deliver_with_retries(lane, event, lock)) {
      ++given_up_;
      log::error("dicomd", s.name + " gave up on event " + event.handler->topic + " " + event.key + " after " +
                               std::to_string(options_.max_attempts) + " attempts");
    }
    lane.last_finished = event.sequence;
    lane.changed.notify_all();
  }
}

// Called and returns with the subscription's lock held; delivers without it.
bool EventBus::deliver_with_retries(Lane& lane, const Stored& event, std::unique_lock<std::mutex>& lock) {
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
    lane.changed.wait_for(lock, backoff, [&] { return lane.stopping; });
    if (lane.stopping && std::chrono::steady_clock::now() >= lane.drain_deadline) return false;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  return false;
}

}  // namespace dicomd
