// Any bytes (a client's file name, a header a plugin logs) made into one
// JSON log string: the result must always parse as a JSON string of valid
// UTF-8, and give back exactly the input when the input was valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/encodings.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/stringbuffer.h>

#include "log.h"

namespace {

// RapidJSON's own check (RFC 3629: no overlong forms, no surrogates).
bool valid_utf8(std::string_view s) {
  rapidjson::MemoryStream in(s.data(), s.size());
  rapidjson::StringBuffer copy;
  while (in.Tell() < s.size())
    if (!rapidjson::UTF8<>::Validate(in, copy)) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string out;
  dicomd::log::append_json_string(out, input);
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(out.c_str(), out.size());
  if (doc.HasParseError() || !doc.IsString()) std::abort();
  std::string_view back(doc.GetString(), doc.GetStringLength());
  if (valid_utf8(input) && back != input) std::abort();
  return 0;
}
