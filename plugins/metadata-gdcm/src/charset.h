// Decoding DICOM text to UTF-8 according to Specific Character Set (0008,0005),
// including the ISO 2022 code extensions (escape sequences switching between
// character sets inside one value, PS3.5 6.1.2.5). Uses the C library's iconv.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dicomd::metadata {

class CharsetDecoder {
 public:
  // `terms`: the values of (0008,0005) in order ("ISO 2022 IR 6", "ISO 2022 IR 87").
  explicit CharsetDecoder(std::vector<std::string> terms = {});

  // One value (already split on '\') to UTF-8. Bytes that cannot be decoded
  // become U+FFFD: the result is always valid UTF-8. `person_name` resets the
  // escape state at '^' and '=' as PN component delimiters require.
  std::string decode(std::string_view bytes, bool person_name = false) const;

  bool uses_code_extensions() const { return iso2022_; }

 private:
  std::string default_g0_;  // iconv name of the initial G0 set
  std::string default_g1_;  // iconv name of the initial G1 set ("" = none)
  bool iso2022_ = false;
};

// iconv conversion of a whole run; invalid sequences become U+FFFD.
std::string convert_to_utf8(std::string_view bytes, const std::string& from_charset);

}  // namespace dicomd::metadata
