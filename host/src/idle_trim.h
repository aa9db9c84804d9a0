// Gives freed heap memory back to the system once a process has been idle
// for a while. main.cpp's mallopt settings keep freed memory for reuse, so
// that a burst of large requests (10 MB uploads, radiograph renders) does
// not fault in fresh pages for each one; between bursts that memory would
// stay resident for nothing. One malloc_trim after a quiet second returns it
// (measured: the server held 38 MiB after four radiograph uploads, and
// 18 MiB a second later).
#pragma once

#include <chrono>
#include <cstdint>

namespace dicomd {

class IdleTrim {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kQuiet{1000};

  // `activity`: a count that moves whenever work begins (requests, jobs);
  // `busy`: work is under way now. Call it every few hundred milliseconds.
  // Returns true when it trimmed.
  bool tick(uint64_t activity, bool busy, Clock::time_point now);

 private:
  uint64_t seen_ = 0;
  Clock::time_point last_activity_{};
  bool trimmed_ = true;
};

// malloc_trim(0): every arena, free pages inside the heap included.
void return_free_memory();

}  // namespace dicomd
