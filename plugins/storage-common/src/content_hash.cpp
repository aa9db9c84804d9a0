#include "content_hash.h"

#include <xxhash.h>

#include <cstdio>

namespace dicomd::storage {

std::string content_hash_of(std::string_view bytes) {
  XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return buf;
}

std::string etag_of(const ObjectInfo& info) {
  if (!info.content_hash.empty()) return "\"" + info.content_hash + "\"";
  char buf[64];
  std::snprintf(buf, sizeof buf, "\"%llu-%lld\"", static_cast<unsigned long long>(info.size),
                static_cast<long long>(info.modified_ns));
  return buf;
}

}  // namespace dicomd::storage
