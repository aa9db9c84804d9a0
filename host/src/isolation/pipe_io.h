// Blocking reads and writes on pipes with an optional deadline, and the
// job frames exchanged with worker processes:
//   request:  u32 kind_len, u64 input_len, kind bytes, input bytes
//   response: i32 status, u64 output_len, output bytes
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dicomd::isolation {

using Deadline = std::optional<std::chrono::steady_clock::time_point>;

// False on EOF, error or deadline (then `timed_out` is set when given).
bool write_all(int fd, const void* data, size_t len, Deadline deadline, bool* timed_out = nullptr);
bool read_all(int fd, void* data, size_t len, Deadline deadline, bool* timed_out = nullptr);

struct RequestHeader {
  uint32_t kind_len;
  uint32_t pad;
  uint64_t input_len;
};
struct ResponseHeader {
  int32_t status;
  uint32_t pad;
  uint64_t output_len;
};

constexpr uint32_t kMaxKindBytes = 256;
constexpr uint64_t kMaxFrameBytes = 4ull << 30;  // 4 GiB: far above any size limit

}  // namespace dicomd::isolation
