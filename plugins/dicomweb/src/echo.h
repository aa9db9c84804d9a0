// Client-supplied text quoted in an answer (an error's message, a STOW
// failure's comment): printable ASCII kept, any other byte '?', at most 64
// characters. The answers stay valid UTF-8 JSON whatever a client sends.
#pragma once

#include <string>
#include <string_view>

namespace dicomd::dicomweb {

inline std::string echo(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

}  // namespace dicomd::dicomweb
