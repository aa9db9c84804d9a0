#include "idle_trim.h"

#include <malloc.h>

namespace dicomd {

bool IdleTrim::tick(uint64_t activity, bool busy, Clock::time_point now) {
  if (activity != seen_ || busy) {
    seen_ = activity;
    last_activity_ = now;
    trimmed_ = false;
    return false;
  }
  if (trimmed_ || now - last_activity_ < kQuiet) return false;
  return_free_memory();
  trimmed_ = true;
  return true;
}

void return_free_memory() {
  ::malloc_trim(0);
}

}  // namespace dicomd
