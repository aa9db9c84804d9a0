#include "header_cache.h"

namespace dicomd::metadata {

std::shared_ptr<const ParsedHeader> HeaderCache::find_unchanged(const std::string& key, uint64_t removals) {
  std::lock_guard lock(mutex_);
  auto it = index_.find(key);
  if (it == index_.end() || it->second->checked_at != removals) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->header;
}

std::shared_ptr<const ParsedHeader> HeaderCache::find(const std::string& key, const FileVersion& version,
                                                      uint64_t removals) {
  std::lock_guard lock(mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  if (!(it->second->version == version)) {
    erase(it->second);
    return nullptr;
  }
  it->second->checked_at = removals;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->header;
}

void HeaderCache::insert(const std::string& key, const FileVersion& version, uint64_t removals,
                         std::shared_ptr<const ParsedHeader> header) {
  size_t bytes = header->memory_bytes() + 2 * key.size() + sizeof(Entry) + 64;
  if (bytes > capacity_ / 8) return;
  std::lock_guard lock(mutex_);
  if (auto it = index_.find(key); it != index_.end()) erase(it->second);
  while (bytes_ + bytes > capacity_ && !lru_.empty()) erase(std::prev(lru_.end()));
  lru_.push_front(Entry{key, version, removals, std::move(header), bytes});
  index_.emplace(key, lru_.begin());
  bytes_ += bytes;
}

void HeaderCache::erase(Lru::iterator it) {
  bytes_ -= it->bytes;
  index_.erase(it->key);
  lru_.erase(it);
}

size_t HeaderCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

size_t HeaderCache::entries() const {
  std::lock_guard lock(mutex_);
  return lru_.size();
}

}  // namespace dicomd::metadata
