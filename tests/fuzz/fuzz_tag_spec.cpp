// Tag spellings of ?tag= and the dictionary look-ups behind them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dictionary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view spec(reinterpret_cast<const char*>(data), size);
  if (auto tag = dicomd::metadata::parse_tag_spec(spec)) {
    dicomd::metadata::is_public_dictionary_tag(*tag);
    auto info = dicomd::metadata::lookup(*tag);
    if (dicomd::metadata::tag_string(*tag).size() != 11) __builtin_trap();
    (void)info;
  }
  return 0;
}
