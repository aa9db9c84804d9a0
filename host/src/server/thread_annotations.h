// Clang's thread-safety annotations (-Wthread-safety), so that the rule
// "this field is only touched with that mutex held" is checked by the
// compiler, not only written in a comment. Under GCC they expand to nothing;
// the clang builds (tsan, fuzz presets) check them.
#pragma once

#include <mutex>

#if defined(__clang__)
#define DICOMD_TSA(x) __attribute__((x))
#else
#define DICOMD_TSA(x)
#endif

#define DICOMD_CAPABILITY(x) DICOMD_TSA(capability(x))
#define DICOMD_SCOPED_CAPABILITY DICOMD_TSA(scoped_lockable)
#define DICOMD_GUARDED_BY(x) DICOMD_TSA(guarded_by(x))
#define DICOMD_REQUIRES(...) DICOMD_TSA(requires_capability(__VA_ARGS__))
#define DICOMD_EXCLUDES(...) DICOMD_TSA(locks_excluded(__VA_ARGS__))
#define DICOMD_ACQUIRE(...) DICOMD_TSA(acquire_capability(__VA_ARGS__))
#define DICOMD_RELEASE(...) DICOMD_TSA(release_capability(__VA_ARGS__))
#define DICOMD_NO_THREAD_SAFETY_ANALYSIS DICOMD_TSA(no_thread_safety_analysis)

namespace dicomd {

// std::mutex with the annotations clang needs to follow it.
class DICOMD_CAPABILITY("mutex") Mutex {
 public:
  void lock() DICOMD_ACQUIRE() { m_.lock(); }
  void unlock() DICOMD_RELEASE() { m_.unlock(); }

 private:
  std::mutex m_;
};

// std::lock_guard for Mutex.
class DICOMD_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& m) DICOMD_ACQUIRE(m) : m_(m) { m_.lock(); }
  ~MutexLock() DICOMD_RELEASE() { m_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& m_;
};

}  // namespace dicomd
