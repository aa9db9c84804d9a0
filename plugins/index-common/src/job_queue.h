// dicomd.jobqueue v1 (jobqueue_v1.h) on the index's SqlDatabase: the jobs
// and their results live in the index database, so every host that shares
// the index (PostgreSQL) shares the queue. A claim is one UPDATE of the
// oldest due row — under SQLite's single writer, or FOR UPDATE SKIP LOCKED
// on PostgreSQL, where a NOTIFY wakes the other hosts' idle workers.
#pragma once

#include <dicomd/plugin.h>
#include <dicomd/services/jobqueue_v1.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include <dicomd/cpp/host.hpp>
#include <dicomd/cpp/services.hpp>

#include "sql.h"

namespace dicomd::index {

inline constexpr dicomd_service_ref kJobQueueRef{DICOMD_JOBQUEUE_SERVICE, 1, 0};

class JobQueue {
 public:
  JobQueue(Host host, SqlDatabase& db);
  ~JobQueue();
  JobQueue(const JobQueue&) = delete;
  JobQueue& operator=(const JobQueue&) = delete;

  Host& host() { return host_; }
  const dicomd_jobqueue_v1* vtable() const { return &vtable_; }
  // Creates the tables (idempotent) and, on PostgreSQL, starts listening.
  void create_schema();

  // jobqueue_v1.h, method by method.
  dicomd_status submit(dicomd_str job_json, dicomd_sink out);
  dicomd_status claim(dicomd_str owner, uint32_t lease_ms, dicomd_sink out);
  dicomd_status renew(uint64_t id, uint64_t token, uint32_t progress, uint32_t lease_ms);
  dicomd_status complete(uint64_t id, uint64_t token, dicomd_str content_type, dicomd_str result);
  dicomd_status fail(uint64_t id, uint64_t token, dicomd_str reason, uint32_t retry_after_ms, int32_t release);
  dicomd_status get(uint64_t id, dicomd_sink out);
  dicomd_status result(uint64_t id, dicomd_str key, dicomd_sink content_type, dicomd_sink body);
  dicomd_status cancel(uint64_t id);
  dicomd_status cancel_source(dicomd_str study, dicomd_str file, dicomd_str drop_kind, dicomd_str reason,
                              dicomd_sink out);
  dicomd_status list(dicomd_str kind, dicomd_str state, uint32_t limit, dicomd_sink out);
  dicomd_status counts(dicomd_sink out);
  int32_t wait(uint32_t timeout_ms);
  void wake_all();
  dicomd_status prune(dicomd_str kind, int64_t finished_before_ms, dicomd_sink out);

 private:
  // Wakes this process's waits; on PostgreSQL the statement `session` runs
  // also wakes the other hosts' (NOTIFY is sent at commit).
  void announce(SqlSession& session);
  void woken();

  Host host_;
  SqlDatabase& db_;
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  uint64_t wake_count_ = 0;  // guarded by wake_mutex_
  std::atomic<bool> stopping_{false};
  std::thread listener_;  // PostgreSQL only
  dicomd_jobqueue_v1 vtable_;
};

}  // namespace dicomd::index
