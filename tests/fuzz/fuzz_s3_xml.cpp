// What storage-s3 reads from an object store: XML answers (listings,
// multipart uploads, errors) and header values (Last-Modified). Whatever
// the bytes: no crash, no hang; a decoded text holds no '&' that was not
// written as an entity, and escaping then decoding gives the text back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "s3_blob_store.h"
#include "s3_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  using namespace dicomd::s3;
  for (std::string_view tag : {"Contents", "CommonPrefixes", "Key", "Prefix", "Code"}) {
    for (std::string_view inner : xml_elements(input, tag)) {
      if (inner.data() < input.data() || inner.data() + inner.size() > input.data() + input.size()) std::abort();
      (void)xml_text(inner, "Key");
    }
  }
  (void)xml_text(input, "NextContinuationToken");
  if (auto decoded = xml_decode(input)) {
    auto again = xml_decode(xml_escape(*decoded));
    if (!again || *again != *decoded) std::abort();
  }
  (void)parse_http_time(input);
  return 0;
}
