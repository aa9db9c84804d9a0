// What an isolated worker may still do once it has loaded its plugin: read
// its job from a pipe, compute, write the result to a pipe. Everything else
// a compromised decoder could want is taken away before the first job.
#pragma once

#include <string>

namespace dicomd {

// Enters the sandbox; returns "" or why it could not (the worker then
// refuses to serve):
//   - started as root: a network namespace of its own (no interface but a
//     loopback that is down), then user and group nobody (65534) with no
//     supplementary groups;
//   - no_new_privs (no set-uid program can give privileges back);
//   - RLIMIT_FSIZE 0 (no file can be written; SIGXFSZ ignored, so a write
//     fails with EFBIG) — except in sanitizer builds, whose reports go to
//     stderr, which may be a file;
//   - RLIMIT_NOFILE 16 (its pipes, stdio, a few spare);
//   - a seccomp allow-list of system calls (syscall_filter.h) — except in
//     sanitizer builds, whose runtimes need calls decoders never make.
std::string enter_sandbox();

}  // namespace dicomd
