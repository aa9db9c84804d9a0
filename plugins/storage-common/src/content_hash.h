// The content hash every storage backend keeps with an object, so that an
// ETag is the same whichever backend stored the file.
#pragma once

#include <string>
#include <string_view>

namespace dicomd::storage {

// XXH3-128 of `bytes`, 32 hex digits.
std::string content_hash_of(std::string_view bytes);

}  // namespace dicomd::storage
