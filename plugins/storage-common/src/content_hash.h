// The content hash every storage backend keeps with an object, so that an
// ETag is the same whichever backend stored the file.
#pragma once

#include <string>
#include <string_view>

#include "blob_store.h"

namespace dicomd::storage {

// XXH3-128 of `bytes`, 32 hex digits.
std::string content_hash_of(std::string_view bytes);

// The ETag of a stored object's version (quotes included): its content
// hash, or size and time when the backend keeps no hash.
std::string etag_of(const ObjectInfo& info);

}  // namespace dicomd::storage
