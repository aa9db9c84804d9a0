// Blocking reads and writes on pipes and sockets with an optional deadline,
// and the job frames exchanged with worker processes:
//   request:  RequestHeader, kind bytes, input bytes; for a file job the
//             header carries an open descriptor (SCM_RIGHTS on the request
//             socket), whose bytes the worker maps after the input
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
// write_all of `data` on a Unix socket with `passed_fd` attached to its
// first byte (SCM_RIGHTS).
bool send_with_fd(int socket, const void* data, size_t len, int passed_fd, Deadline deadline,
                  bool* timed_out = nullptr);
// read_all from a Unix socket; a descriptor that came with the bytes is
// stored in *received_fd (else -1), close-on-exec.
bool receive_with_fd(int socket, void* data, size_t len, int* received_fd);

struct RequestHeader {
  uint32_t kind_len;
  uint32_t has_file;  // 1: a descriptor came with this header
  uint64_t input_len;
  uint64_t file_offset;
  uint64_t file_length;
  char traceparent[56];  // the job span's W3C traceparent, NUL-terminated; "" outside a request
};
struct ResponseHeader {
  int32_t status;
  uint32_t pad;
  uint64_t output_len;
};

constexpr uint32_t kMaxKindBytes = 256;
constexpr uint64_t kMaxFileJobHead = 1024;  // a file job's input before the file: its options
constexpr uint64_t kFileJobAlignment = 4096;
constexpr uint64_t kMaxFrameBytes = 4ull << 30;  // 4 GiB: far above any size limit

}  // namespace dicomd::isolation
