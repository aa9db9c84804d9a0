// Admission of request bodies: a request whose body is at least
// upload_bytes counts as an upload. Beyond max_uploads concurrent uploads,
// or max_body_memory bytes of declared bodies held at once, a new request
// is refused (503 + Retry-After) before its body is read.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace dicomd {

// What one admitted request holds until it is answered.
struct Reservation {
  uint64_t bytes = 0;
  bool upload = false;
  std::string client;  // whose share it counts against
};

class Admission {
 public:
  Admission(uint64_t upload_bytes, size_t max_uploads, uint64_t max_body_memory, uint64_t max_per_client)
      : upload_bytes_(upload_bytes),
        max_uploads_(max_uploads),
        max_body_memory_(max_body_memory),
        max_per_client_(max_per_client) {}

  // Reserves room for a body of `body_bytes` from `client` into `out`, or
  // says why not: past the uploads at once, the body memory of all clients,
  // or this client's share of it (so that a few clients declaring huge
  // bodies cannot lock everyone else out).
  std::optional<std::string> admit(uint64_t body_bytes, const std::string& client, Reservation& out);
  // Gives a reservation back (idempotent: it is emptied).
  void release(Reservation& r);

 private:
  const uint64_t upload_bytes_;
  const size_t max_uploads_;
  const uint64_t max_body_memory_;
  const uint64_t max_per_client_;
  std::mutex mutex_;
  std::unordered_map<std::string, uint64_t> per_client_;  // reserved bytes by client address
  std::atomic<uint64_t> body_bytes_held_{0};
  std::atomic<size_t> uploads_in_flight_{0};
};

}  // namespace dicomd
