#include "isolation/worker_main.h"

#include <dlfcn.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include <dicomd/plugin.h>

#include "idle_trim.h"
#include "isolation/pipe_io.h"
#include "isolation/sandbox.h"
#include "plugins/loaded_plugin.h"
#include "plugins/plugin_loader.h"

namespace dicomd {
namespace {

constexpr int kInFd = 3;
constexpr int kOutFd = 4;

void append(void* ctx, const void* data, size_t len) {
  static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), len);
}

// Caps the CPU time of the next job: the limit is cumulative for the
// process, so the soft limit is moved forward before each job; past it the
// kernel sends SIGXCPU, which ends the worker. The hard limit is left alone:
// once lowered, it cannot be raised again without CAP_SYS_RESOURCE, and a
// long-lived worker would die after its first few seconds of work.
void limit_next_job_cpu(rlim_t seconds) {
  rusage used{};
  ::getrusage(RUSAGE_SELF, &used);
  rlim_t spent = static_cast<rlim_t>(used.ru_utime.tv_sec + used.ru_stime.tv_sec) + 1;
  rlimit cpu{};
  ::getrlimit(RLIMIT_CPU, &cpu);
  cpu.rlim_cur = std::min(spent + seconds, cpu.rlim_max);
  ::setrlimit(RLIMIT_CPU, &cpu);
}

// A file job's input in one piece without a copy of the file: an
// anonymous page holding the head at its end, and the file mapped right
// after it.
class MappedInput {
 public:
  MappedInput(std::string_view head, int fd, uint64_t offset, uint64_t length) : length_(kPage + length) {
    void* base = ::mmap(nullptr, length_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return;
    base_ = static_cast<char*>(base);
    if (length > 0 && ::mmap(base_ + kPage, length, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd,
                             static_cast<off_t>(offset)) == MAP_FAILED) {
      release();
      return;
    }
    std::memcpy(base_ + kPage - head.size(), head.data(), head.size());
    view_ = std::string_view(base_ + kPage - head.size(), head.size() + length);
  }
  ~MappedInput() { release(); }
  MappedInput(const MappedInput&) = delete;
  MappedInput& operator=(const MappedInput&) = delete;
  bool ok() const { return base_ != nullptr; }
  std::string_view view() const { return view_; }

 private:
  static constexpr size_t kPage = isolation::kFileJobAlignment;
  void release() {
    if (base_) ::munmap(base_, length_);
    base_ = nullptr;
  }
  size_t length_;
  char* base_ = nullptr;
  std::string_view view_;
};

// Serves jobs until the host closes the request socket.
int serve(const dicomd_plugin_descriptor* d, rlim_t cpu_seconds_per_job) {
  std::string kind, input, output;
  bool trimmed = true;
  auto traced = DICOMD_HAS_FIELD(d, dicomd_plugin_descriptor, isolated_job_traced) ? d->isolated_job_traced : nullptr;
  while (true) {
    if (!trimmed) {  // after a job: a quiet second gives its freed memory back (idle_trim.h)
      pollfd next{kInFd, POLLIN, 0};
      if (::poll(&next, 1, static_cast<int>(IdleTrim::kQuiet.count())) == 0) {
        output = std::string();  // the largest buffer kept between jobs
        return_free_memory();
      }
      trimmed = true;
    }
    isolation::RequestHeader req{};
    int file = -1;
    if (!isolation::receive_with_fd(kInFd, &req, sizeof req, &file)) return 0;
    if (req.kind_len > isolation::kMaxKindBytes || req.input_len > isolation::kMaxFrameBytes) return 1;
    if (req.has_file &&
        (file < 0 || req.input_len > isolation::kMaxFileJobHead || req.file_offset % isolation::kFileJobAlignment != 0))
      return 1;
    kind.resize(req.kind_len);
    input.resize(req.input_len);
    if (!isolation::read_all(kInFd, kind.data(), kind.size(), std::nullopt) ||
        !isolation::read_all(kInFd, input.data(), input.size(), std::nullopt))
      return 0;
    output.clear();
    limit_next_job_cpu(cpu_seconds_per_job);
    std::string_view job_input = input;
    std::optional<MappedInput> mapped;
    if (!req.has_file && file >= 0) ::close(file);  // not asked for: not kept
    if (req.has_file) {
      mapped.emplace(input, file, req.file_offset, req.file_length);
      ::close(file);  // the mapping keeps the file
      if (!mapped->ok()) return 1;
      job_input = mapped->view();
    }
    req.traceparent[sizeof req.traceparent - 1] = '\0';
    dicomd_str job_kind{kind.data(), kind.size()}, job_data{job_input.data(), job_input.size()};
    dicomd_sink sink{&output, append};
    dicomd_status status =
        traced ? traced(job_kind, job_data, dicomd_str{req.traceparent, std::strlen(req.traceparent)}, sink)
               : d->isolated_job(job_kind, job_data, sink);
    mapped.reset();
    isolation::ResponseHeader resp{status, 0, output.size()};
    if (!isolation::write_all(kOutFd, &resp, sizeof resp, std::nullopt) ||
        !isolation::write_all(kOutFd, output.data(), output.size(), std::nullopt))
      return 0;
    if (input.capacity() > (64u << 20)) std::string().swap(input);  // don't sit on a huge buffer
    trimmed = false;
  }
}

}  // namespace

// GCC says __SANITIZE_ADDRESS__ / __SANITIZE_THREAD__; clang says __has_feature.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define DICOMD_CLANG_SANITIZER 1
#endif
#endif
#ifndef DICOMD_CLANG_SANITIZER
#define DICOMD_CLANG_SANITIZER 0
#endif

int run_worker(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "dicomd worker: usage: dicomd --worker LIB NAME MEMORY_MB CPU_SECONDS_PER_JOB\n");
    return 2;
  }
  rlim_t cpu_seconds = static_cast<rlim_t>(std::stoull(argv[5]));
  std::string path = argv[2], name = argv[3];
  rlim_t memory = static_cast<rlim_t>(std::stoull(argv[4])) << 20;
  rlimit limit{memory, memory};
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || DICOMD_CLANG_SANITIZER
  (void)limit;  // ASan and TSan reserve terabytes of address space for their shadow: no RLIMIT_AS
#else
  ::setrlimit(RLIMIT_AS, &limit);
#endif
  rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);

  void* library = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    std::fprintf(stderr, "dicomd worker: cannot load %s: %s\n", path.c_str(), ::dlerror());
    return 1;
  }
  auto entry = reinterpret_cast<dicomd_plugin_entry_fn>(::dlsym(library, DICOMD_PLUGIN_ENTRY_SYMBOL));
  try {
    if (!entry) throw PluginError(name, "no entry point");
    const dicomd_plugin_descriptor* d = entry();
    check_descriptor(name, d);
    if (!d->isolated_job) throw PluginError(name, "has no isolated_job hook");
    if (std::string why = enter_sandbox(); !why.empty()) throw PluginError(name, "worker sandbox: " + why);
    return serve(d, cpu_seconds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dicomd worker: %s\n", e.what());
    return 1;
  }
}

}  // namespace dicomd
