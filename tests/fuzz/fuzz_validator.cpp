// The DICOM validator as production runs it: in a separate process. Debian's
// GDCM aborts on some inputs by design of its build (assert); that abort is
// contained, as in the isolated workers. What must never happen: a crash or
// sanitizer report in our own code (exit code 86), or a verdict without a
// reason.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dicom_check.h"

extern "C" const char* __asan_default_options() {
  return "exitcode=86:abort_on_error=0";
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  dicomd::validator::sniff_other_format(bytes);  // in-process, for coverage of our own pre-checks
  pid_t pid = fork();
  if (pid == 0) {
    // libFuzzer's own handlers would report GDCM's abort as a crash of the
    // fuzzer: let the child die of it, as a worker would.
    signal(SIGABRT, SIG_DFL);
    signal(SIGALRM, SIG_DFL);
    alarm(5);  // a hang is contained as well (the workers have a deadline)
    auto verdict = dicomd::validator::check_dicom(bytes);
    _exit(verdict.valid ? 0 : (verdict.reason.empty() ? 3 : 1));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && (WEXITSTATUS(status) == 86 || WEXITSTATUS(status) == 3)) __builtin_trap();
  if (WIFSIGNALED(status) && WTERMSIG(status) != SIGABRT && WTERMSIG(status) != SIGALRM && WTERMSIG(status) != SIGKILL)
    __builtin_trap();  // a segfault is ours to fix even under GDCM
  return 0;
}
