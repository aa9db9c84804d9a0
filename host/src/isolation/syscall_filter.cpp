#include "isolation/syscall_filter.h"

#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace dicomd {
namespace {

// Found by tracing workers over the cross-check corpus; grouped by purpose.
constexpr int kAllowed[] = {
    // job pipes, stdio and read-only files
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(readv),
    SCMP_SYS(recvmsg),  // a file job's descriptor (SCM_RIGHTS) on the request socket
    SCMP_SYS(writev),
    SCMP_SYS(pread64),
    SCMP_SYS(close),
    SCMP_SYS(lseek),
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(statx),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(fcntl),
    // memory
    SCMP_SYS(brk),
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(mprotect),
    SCMP_SYS(madvise),
    // threads of decoders (OpenJPEG, the C++ runtime)
    SCMP_SYS(futex),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(rseq),
    SCMP_SYS(set_tid_address),
    SCMP_SYS(sched_yield),
    SCMP_SYS(sched_getaffinity),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    // time and limits (the per-job CPU limit moves RLIMIT_CPU forward)
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(getrusage),
    SCMP_SYS(prlimit64),
    SCMP_SYS(getrlimit),
    SCMP_SYS(setrlimit),
    SCMP_SYS(sysinfo),
    // signals, to itself only (abort raises SIGABRT)
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getrandom),
};

// Writes "dicomd worker: system call N is outside the sandbox's allow-list"
// with async-signal-safe calls only, then dies of SIGSYS so the host sees why.
void on_refused_call(int, siginfo_t* info, void*) {
  char text[96] = "dicomd worker: system call ";
  size_t len = std::strlen(text);
  char digits[12];
  int n = 0;
  unsigned call = static_cast<unsigned>(info->si_syscall);
  do digits[n++] = static_cast<char>('0' + call % 10);
  while ((call /= 10) != 0 && n < 11);
  while (n > 0) text[len++] = digits[--n];
  const char tail[] = " is outside the sandbox's allow-list\n";
  std::memcpy(text + len, tail, sizeof tail - 1);
  len += sizeof tail - 1;
  [[maybe_unused]] ssize_t ignored = ::write(STDERR_FILENO, text, len);
  ::signal(SIGSYS, SIG_DFL);
  ::raise(SIGSYS);
}

struct FilterDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

// SCMP_A0..5 leave datum_b out, which clang warns about.
scmp_arg_cmp compare(unsigned arg, scmp_compare op, scmp_datum_t a, scmp_datum_t b = 0) {
  return scmp_arg_cmp{arg, op, a, b};
}

std::string failed(const char* what, int rc) {
  return std::string(what) + ": " + std::strerror(-rc);
}

}  // namespace

std::string install_syscall_filter() {
  struct sigaction refused {};
  refused.sa_sigaction = on_refused_call;
  refused.sa_flags = SA_SIGINFO;
  if (::sigaction(SIGSYS, &refused, nullptr) != 0) return std::string("sigaction(SIGSYS): ") + std::strerror(errno);

  std::unique_ptr<void, FilterDeleter> filter(seccomp_init(SCMP_ACT_TRAP));
  if (!filter) return "seccomp_init failed";
  void* f = filter.get();
  if (int rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1); rc != 0) return failed("seccomp_attr_set(TSYNC)", rc);
  for (int call : kAllowed)
    if (int rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, call, 0); rc != 0) return failed("seccomp_rule_add", rc);

  // Read-only opens pass; an open with any write flag fails with EACCES.
  constexpr scmp_datum_t kWriteFlags[] = {O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND, __O_TMPFILE};
  scmp_datum_t any_write = 0;
  for (scmp_datum_t flag : kWriteFlags) {
    any_write |= flag;
    if (int rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 1,
                                  compare(2, SCMP_CMP_MASKED_EQ, flag, flag));
        rc != 0)
      return failed("seccomp_rule_add(openat)", rc);
  }
  if (int rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1, compare(2, SCMP_CMP_MASKED_EQ, any_write, 0));
      rc != 0)
    return failed("seccomp_rule_add(openat)", rc);

  // Threads, never processes: clone3 hides its flags in memory, so glibc is
  // told it does not exist and uses clone, whose flags are checked.
  struct Rule {
    int call;
    uint32_t action;
  };
  for (Rule r : {Rule{SCMP_SYS(clone3), SCMP_ACT_ERRNO(ENOSYS)}, Rule{SCMP_SYS(socket), SCMP_ACT_ERRNO(EACCES)},
                 Rule{SCMP_SYS(ioctl), SCMP_ACT_ERRNO(ENOTTY)}})
    if (int rc = seccomp_rule_add(f, r.action, r.call, 0); rc != 0) return failed("seccomp_rule_add", rc);
  if (int rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                                compare(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
      rc != 0)
    return failed("seccomp_rule_add(clone)", rc);
  // Signals to its own threads only (abort, the C library's thread cancel).
  if (int rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
                                compare(0, SCMP_CMP_EQ, static_cast<scmp_datum_t>(::getpid())));
      rc != 0)
    return failed("seccomp_rule_add(tgkill)", rc);

  if (int rc = seccomp_load(f); rc != 0) return failed("seccomp_load", rc);
  return "";
}

}  // namespace dicomd
