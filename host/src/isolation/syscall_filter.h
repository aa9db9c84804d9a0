// The system calls an isolated worker may make once its sandbox is entered:
// an allow-list taken from tracing every worker over the imaging
// cross-check corpus (strace -ff; docs/http.md, "Isolated workers"), plus what glibc needs
// on its error paths (abort, thread start).
#pragma once

#include <string>

namespace dicomd {

// Installs the filter on the calling thread and every thread it starts
// later (call it before any job runs threads). Returns "" or why not.
//   - allowed: pipe I/O, memory, threads, time, limits, signals to itself;
//   - openat read-only (iconv loads its gconv modules, the C library reads
//     /sys/devices/system/cpu/online); a write flag gets EACCES;
//   - socket, ioctl: EACCES / ENOTTY, so a library that probes fails softly;
//   - clone3: ENOSYS, so glibc falls back to clone, whose flags can be
//     checked (threads only, never a new process);
//   - anything else: the worker writes the call's number to stderr (which
//     RLIMIT_FSIZE 0 stops when stderr is a file) and is killed by SIGSYS;
//     the host replaces it and logs why.
std::string install_syscall_filter();

}  // namespace dicomd
