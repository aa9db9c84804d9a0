#include "isolation/sandbox.h"

#include "isolation/syscall_filter.h"

#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

// GCC says __SANITIZE_ADDRESS__ / __SANITIZE_THREAD__; clang says __has_feature.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define DICOMD_SANDBOX_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define DICOMD_SANDBOX_SANITIZED 1
#endif
#endif
#ifndef DICOMD_SANDBOX_SANITIZED
#define DICOMD_SANDBOX_SANITIZED 0
#endif

namespace dicomd {
namespace {

constexpr uid_t kNobody = 65534;
constexpr rlim_t kMaxOpenFiles = 16;

std::string failed(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

}  // namespace

std::string enter_sandbox() {
  if (::geteuid() == 0) {
    if (::unshare(CLONE_NEWNET) != 0) return failed("unshare(CLONE_NEWNET)");
    if (::setgroups(0, nullptr) != 0) return failed("setgroups");
    if (::setgid(kNobody) != 0) return failed("setgid(nobody)");
    if (::setuid(kNobody) != 0) return failed("setuid(nobody)");
    if (::setuid(0) == 0) return "could give up root";  // must be impossible now
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return failed("prctl(PR_SET_NO_NEW_PRIVS)");
  if (!DICOMD_SANDBOX_SANITIZED) {
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit no_files{0, 0};
    if (::setrlimit(RLIMIT_FSIZE, &no_files) != 0) return failed("setrlimit(RLIMIT_FSIZE)");
  }
  rlimit few{kMaxOpenFiles, kMaxOpenFiles};
  if (::setrlimit(RLIMIT_NOFILE, &few) != 0) return failed("setrlimit(RLIMIT_NOFILE)");
  // Sanitizer runtimes trace (LeakSanitizer stops the world with ptrace),
  // symbolise and write reports: calls no allow-list for decoders covers.
  if (!DICOMD_SANDBOX_SANITIZED) return install_syscall_filter();
  return "";
}

}  // namespace dicomd
