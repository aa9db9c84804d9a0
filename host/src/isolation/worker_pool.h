// The isolation service: long-lived worker processes that run one plugin's
// isolated_job on untrusted bytes. A worker that crashes, aborts or runs
// past its deadline fails only its job and is replaced (DESIGN.md).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <dicomd/abi.h>

#include "config.h"

namespace dicomd {
namespace trace {
class RequestTrace;
}

class WorkerPool {
 public:
  WorkerPool(std::string exe, std::string plugin_path, std::string plugin_name, IsolationConfig config);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Starts every worker; throws std::runtime_error if none can start.
  void start();
  // Runs one job; blocks until it ends, fails or the deadline passes. The
  // job's deadline starts when a worker takes it: waiting for one is not
  // the file's fault. DICOMD_E_UNAVAILABLE when max_queued jobs already
  // wait, or none is free within queue_timeout_ms.
  dicomd_status run(std::string_view kind, std::string_view input, uint32_t timeout_ms, dicomd_sink output);
  // The same for a job whose input is `head` followed by `length` bytes of
  // the open file `fd` from `offset`: the worker maps them (host.h
  // isolate_file). DICOMD_E_INVALID for a head over kMaxFileJobHead, an
  // offset not aligned, or a range that is not in the regular file.
  dicomd_status run_file(std::string_view kind, std::string_view head, int fd, uint64_t offset, uint64_t length,
                         uint32_t timeout_ms, dicomd_sink output);
  size_t size() const { return config_.workers; }
  size_t alive();
  // Jobs that ended with a killed or crashed worker, since start.
  size_t replaced();
  // Jobs run since start, and those that did not end with DICOMD_OK (bad
  // input the job refused, a timeout, a crash).
  uint64_t jobs() const { return jobs_.load(); }
  uint64_t failed_jobs() const { return failed_jobs_.load(); }

 private:
  struct Worker {
    pid_t pid = -1;
    int to_worker = -1;    // we write job requests here (a Unix socket: it carries descriptors)
    int from_worker = -1;  // and read responses here
  };
  struct Job {
    std::string_view kind, input;
    int file = -1;  // with a file job
    uint64_t file_offset = 0, file_length = 0;
    std::string traceparent;  // of the job's span, when run for a request
  };
  dicomd_status run_job(Job& job, uint32_t timeout_ms, dicomd_sink output);
  dicomd_status take_worker_and_run(Job& job, uint32_t timeout_ms, dicomd_sink output, trace::RequestTrace* trace,
                                    size_t wait_span);
  bool spawn(Worker& w);
  // Ends the worker; says how it ended ("killed by Segmentation fault"), or "".
  static std::string terminate(Worker& w);
  dicomd_status exchange(Worker& w, const Job& job, std::chrono::steady_clock::time_point deadline, dicomd_sink output);

  std::string exe_, plugin_path_, plugin_name_;
  IsolationConfig config_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<Worker> idle_;
  size_t replaced_ = 0;
  size_t busy_ = 0;    // workers out of idle_ running a job
  size_t queued_ = 0;  // jobs waiting for a worker
  std::atomic<uint64_t> jobs_{0}, failed_jobs_{0};
};

}  // namespace dicomd
