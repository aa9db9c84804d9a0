// Worker mode of the dicomd binary: `dicomd --worker LIB NAME MEMORY_MB CPU_SECONDS`.
// Loads one plugin and serves its isolated_job over fds 3 (in) and 4 (out).
#pragma once

namespace dicomd {

int run_worker(int argc, char** argv);

}  // namespace dicomd
