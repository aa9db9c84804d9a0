// Admission of request bodies: a request whose body is at least
// upload_bytes counts as an upload. Beyond max_uploads concurrent uploads,
// or max_body_memory bytes of declared bodies held at once, a new request
// is refused (503 + Retry-After) before its body is read.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

namespace dicomd {

// What one admitted request holds until it is answered.
struct Reservation {
  uint64_t bytes = 0;
  bool upload = false;
};

class Admission {
 public:
  Admission(uint64_t upload_bytes, size_t max_uploads, uint64_t max_body_memory)
      : upload_bytes_(upload_bytes), max_uploads_(max_uploads), max_body_memory_(max_body_memory) {}

  // Reserves room for a body of `body_bytes` into `out`, or says why not.
  std::optional<std::string> admit(uint64_t body_bytes, Reservation& out);
  // Gives a reservation back (idempotent: it is emptied).
  void release(Reservation& r);

 private:
  const uint64_t upload_bytes_;
  const size_t max_uploads_;
  const uint64_t max_body_memory_;
  std::atomic<uint64_t> body_bytes_held_{0};
  std::atomic<size_t> uploads_in_flight_{0};
};

}  // namespace dicomd
