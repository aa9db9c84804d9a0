// The workers of this host: each claims a due job from the shared queue,
// runs it under a lease it renews as it reports progress, and ends it —
// done with its result, queued again after a transient failure (renderers
// busy, a database hiccup), or failed with the reason for bad input.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <dicomd/cpp/host.hpp>
#include <dicomd/cpp/services.hpp>

namespace dicomd::jobs {

struct RunnerSettings {
  uint32_t workers = 2;            // jobs run at once on this host
  uint32_t frame_parallelism = 2;  // renders in flight per animation
  uint32_t lease_ms = 30000;
  uint32_t poll_ms = 1000;  // an idle worker looks again at least this often
  uint32_t max_frames = 1000;
  uint32_t keep_finished_days = 30;  // animations finished longer ago are forgotten; 0: kept
  std::string owner;                 // "host:pid", shown in listings
};

struct Services {
  Storage storage;
  Index index;
  Metadata metadata;
  Render render;
  JobQueue queue;
};

// A claimed job (jobqueue_v1.h claim).
struct ClaimedJob {
  uint64_t id = 0, token = 0;
  uint32_t attempt = 0;
  std::string kind, params;
};

class JobRunner {
 public:
  // `finished`: the counter dicomd_jobs_finished_total{result}, defined by
  // the plugin's constructor (metrics are defined during init only).
  JobRunner(Host host, Services services, RunnerSettings settings, Metric finished);
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  void start();
  // Running jobs are given back to the queue (another host, or this one
  // after its restart, takes them up).
  void stop();

  const RunnerSettings& settings() const { return settings_; }
  const Services& services() const { return services_; }

 private:
  void work();
  // At most hourly, from whichever worker comes first: forgets the
  // animations that finished more than keep_finished_days ago.
  void prune_when_due();
  void run(const ClaimedJob& job);
  std::string thumbnail(const ClaimedJob& job);
  std::string animate(const ClaimedJob& job, class LeaseKeeper& lease);

  Host host_;
  Services services_;
  RunnerSettings settings_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> next_prune_ms_{0};
  std::vector<std::thread> threads_;
  Metric finished_;
};

// The delay before a transient failure's next attempt: 1 s, 2 s, 4 s, ...
// up to a minute, with up to 25 % of jitter so hosts do not retry in step.
uint32_t retry_delay_ms(uint32_t attempt);

}  // namespace dicomd::jobs
