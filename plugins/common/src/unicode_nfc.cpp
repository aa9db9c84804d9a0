#include "unicode_nfc.h"

#include <uninorm.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace dicomd {

bool is_nfc(std::string_view s) {
  // Names are at most 255 bytes: normalise into a stack buffer, which
  // u8_normalize uses when the result fits (it allocates otherwise).
  uint8_t buffer[1024];
  size_t length = sizeof buffer;
  const auto* in = reinterpret_cast<const uint8_t*>(s.data());
  uint8_t* out = u8_normalize(UNINORM_NFC, in, s.size(), buffer, &length);
  if (!out) return false;
  std::unique_ptr<uint8_t, decltype(&std::free)> owned(out == buffer ? nullptr : out, &std::free);
  return length == s.size() && std::memcmp(out, in, length) == 0;
}

}  // namespace dicomd
