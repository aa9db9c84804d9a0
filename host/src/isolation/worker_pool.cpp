#include "isolation/worker_pool.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstring>
#include <unistd.h>

#include <stdexcept>

#include "isolation/pipe_io.h"
#include "log.h"
#include "trace/request_trace.h"

namespace dicomd {

using Clock = std::chrono::steady_clock;

WorkerPool::WorkerPool(std::string exe, std::string plugin_path, std::string plugin_name, IsolationConfig config)
    : exe_(std::move(exe)),
      plugin_path_(std::move(plugin_path)),
      plugin_name_(std::move(plugin_name)),
      config_(config) {}

WorkerPool::~WorkerPool() {
  std::lock_guard lock(mutex_);
  for (Worker& w : idle_) terminate(w);
}

void WorkerPool::start() {
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < config_.workers; ++i) {
    Worker w;
    if (!spawn(w)) throw std::runtime_error("cannot start isolation worker for " + plugin_name_);
    idle_.push_back(w);
  }
}

size_t WorkerPool::alive() {
  std::lock_guard lock(mutex_);
  size_t n = busy_;
  for (const Worker& w : idle_) n += w.pid > 0;
  return n;
}

size_t WorkerPool::replaced() {
  std::lock_guard lock(mutex_);
  return replaced_;
}

bool WorkerPool::spawn(Worker& w) {
  // Requests go over a Unix socket, which can carry a file job's descriptor;
  // responses over a pipe. [1] is the host's end of the socket, [0] the worker's.
  int request_pipe[2], response_pipe[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, request_pipe) != 0) return false;
  if (::pipe2(response_pipe, O_CLOEXEC) != 0) {
    ::close(request_pipe[0]);
    ::close(request_pipe[1]);
    return false;
  }
  // Larger buffers: a 10 MB file crosses in fewer wake-ups.
  int buffer = 1 << 20;
  ::setsockopt(request_pipe[1], SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  ::fcntl(response_pipe[1], F_SETPIPE_SZ, 1 << 20);

  std::string memory = std::to_string(config_.memory_mb);
  std::string cpu = std::to_string(config_.timeout_ms / 1000 + 1);  // CPU seconds per job, beside the wall clock
  std::vector<std::string> args = {exe_, "--worker", plugin_path_, plugin_name_, memory, cpu};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid == 0) {
    // Child: only async-signal-safe calls until execv.
    int in = ::fcntl(request_pipe[0], F_DUPFD, 10);
    int out = ::fcntl(response_pipe[1], F_DUPFD, 10);
    ::dup2(in, 3);
    ::dup2(out, 4);
    ::dup2(2, 1);  // stray prints of libraries must not corrupt the protocol
    ::close_range(5, ~0U, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(request_pipe[0]);
  ::close(response_pipe[1]);
  if (pid < 0) {
    ::close(request_pipe[1]);
    ::close(response_pipe[0]);
    return false;
  }
  w.pid = pid;
  w.to_worker = request_pipe[1];
  w.from_worker = response_pipe[0];
  return true;
}

std::string WorkerPool::terminate(Worker& w) {
  std::string how;
  if (w.pid > 0) {
    int status = 0;
    bool ended = ::waitpid(w.pid, &status, WNOHANG) == w.pid;  // a crash: already gone
    if (!ended) {
      ::kill(w.pid, SIGKILL);
      ::waitpid(w.pid, &status, 0);
    }
    if (WIFSIGNALED(status)) how = std::string(ended ? "killed by " : "stopped with ") + ::strsignal(WTERMSIG(status));
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
      how +=
          " (a system call outside the sandbox's allow-list; the worker names it on stderr when stderr is not a "
          "file, or run the host under strace -f)";
    else if (WIFEXITED(status))
      how = "exited with status " + std::to_string(WEXITSTATUS(status));
  }
  if (w.to_worker >= 0) ::close(w.to_worker);
  if (w.from_worker >= 0) ::close(w.from_worker);
  w = Worker{};
  return how;
}

dicomd_status WorkerPool::exchange(Worker& w, const Job& job, Clock::time_point deadline, dicomd_sink output) {
  bool timed_out = false;
  isolation::RequestHeader req{static_cast<uint32_t>(job.kind.size()),
                               job.file >= 0 ? 1u : 0u,
                               job.input.size(),
                               job.file_offset,
                               job.file_length,
                               {}};
  job.traceparent.copy(req.traceparent, sizeof req.traceparent - 1);
  bool sent = job.file >= 0 ? isolation::send_with_fd(w.to_worker, &req, sizeof req, job.file, deadline, &timed_out)
                            : isolation::write_all(w.to_worker, &req, sizeof req, deadline, &timed_out);
  if (!sent || !isolation::write_all(w.to_worker, job.kind.data(), job.kind.size(), deadline, &timed_out) ||
      !isolation::write_all(w.to_worker, job.input.data(), job.input.size(), deadline, &timed_out))
    return timed_out ? DICOMD_E_TIMEOUT : DICOMD_E_WORKER_DIED;
  isolation::ResponseHeader resp{};
  if (!isolation::read_all(w.from_worker, &resp, sizeof resp, deadline, &timed_out))
    return timed_out ? DICOMD_E_TIMEOUT : DICOMD_E_WORKER_DIED;
  if (resp.output_len > isolation::kMaxFrameBytes) return DICOMD_E_WORKER_DIED;
  // Straight into the caller's sink, a chunk at a time: no second copy of
  // the output (a PNG of megabytes) in this process.
  char chunk[64 << 10];
  for (uint64_t left = resp.output_len; left > 0;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, sizeof chunk));
    if (!isolation::read_all(w.from_worker, chunk, n, deadline, &timed_out))
      return timed_out ? DICOMD_E_TIMEOUT : DICOMD_E_WORKER_DIED;
    output.write(output.ctx, chunk, n);
    left -= n;
  }
  return resp.status;
}

dicomd_status WorkerPool::run_file(std::string_view kind, std::string_view head, int fd, uint64_t offset,
                                   uint64_t length, uint32_t timeout_ms, dicomd_sink output) {
  struct stat st {};
  if (head.size() > isolation::kMaxFileJobHead || offset % isolation::kFileJobAlignment != 0 || fd < 0 ||
      ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || offset > static_cast<uint64_t>(st.st_size) ||
      length > static_cast<uint64_t>(st.st_size) - offset)
    return DICOMD_E_INVALID;
  Job job{kind, head, fd, offset, length, {}};
  return run_job(job, timeout_ms, output);
}

dicomd_status WorkerPool::run(std::string_view kind, std::string_view input, uint32_t timeout_ms, dicomd_sink output) {
  Job job{kind, input, -1, 0, 0, {}};
  return run_job(job, timeout_ms, output);
}

// A job run for a request shows in its trace as two spans: waiting for a
// worker, then running on it; the worker gets the run span's traceparent.
dicomd_status WorkerPool::run_job(Job& job, uint32_t timeout_ms, dicomd_sink output) {
  trace::RequestTrace* trace = trace::current();
  size_t wait = trace ? trace->begin("worker.wait", plugin_name_) : 0;
  dicomd_status status = take_worker_and_run(job, timeout_ms, output, trace, wait);
  // Ended already when a worker took the job; when none did, says why.
  if (trace) trace->end(wait, status);
  return status;
}

dicomd_status WorkerPool::take_worker_and_run(Job& job, uint32_t timeout_ms, dicomd_sink output,
                                              trace::RequestTrace* trace, size_t wait_span) {
  std::string_view kind = job.kind;
  if (kind.size() > isolation::kMaxKindBytes) return DICOMD_E_INVALID;
  Worker w;
  {
    std::unique_lock lock(mutex_);
    if (idle_.empty()) {
      if (queued_ >= config_.max_queued) return DICOMD_E_UNAVAILABLE;
      ++queued_;
      bool got = available_.wait_for(lock, std::chrono::milliseconds(config_.queue_timeout_ms),
                                     [this] { return !idle_.empty(); });
      --queued_;
      if (!got) return DICOMD_E_UNAVAILABLE;
    }
    w = idle_.back();
    idle_.pop_back();
    ++busy_;
  }
  if (w.pid <= 0 && !spawn(w)) {
    std::lock_guard lock(mutex_);
    --busy_;
    idle_.push_back(w);
    available_.notify_one();
    return DICOMD_E_UNAVAILABLE;
  }
  size_t run = 0;
  if (trace) {
    trace->end(wait_span);
    run = trace->begin("worker.run", plugin_name_);
    job.traceparent = trace::format_traceparent(trace->trace_id(), trace->innermost_span_id(), trace->flags());
  }
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms ? timeout_ms : config_.timeout_ms);
  dicomd_status status = exchange(w, job, deadline, output);
  ++jobs_;
  if (status != DICOMD_OK) ++failed_jobs_;
  bool failed = status == DICOMD_E_TIMEOUT || status == DICOMD_E_WORKER_DIED;
  std::string what_happened;
  if (failed) {
    std::string how = terminate(w);
    what_happened = std::string("isolated job '") + std::string(kind) + "' " +
                    (status == DICOMD_E_TIMEOUT ? "timed out" : "crashed its worker") +
                    (how.empty() ? "" : " (" + how + ")");
    log::warn(plugin_name_, what_happened + "; worker replaced");
    trace::report_outside_request(plugin_name_, status, "worker", what_happened);
    spawn(w);  // if this fails, the next job retries
  }
  if (trace) trace->end(run, status, what_happened);
  std::lock_guard lock(mutex_);
  if (failed) ++replaced_;
  --busy_;
  idle_.push_back(w);
  available_.notify_one();
  return status;
}

}  // namespace dicomd
