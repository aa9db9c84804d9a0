// Reading an open file's bytes at an offset, whole or not at all: pread
// may return fewer bytes than asked, and EINTR.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dicomd::common {

// False on an I/O error or when the file ends before `size` bytes.
bool read_exactly_at(int fd, uint64_t offset, char* out, size_t size);

}  // namespace dicomd::common
