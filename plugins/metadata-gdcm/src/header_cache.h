// Parsed headers of stored files, least recently used first out, bounded in
// bytes. An entry is valid only for the file it was parsed from: the
// caller passes the file's current size and modification time, and a
// changed file (deleted and stored again) is a miss. Each entry also keeps
// the store's removal count when it was last checked: while that count is
// unchanged, the file cannot have changed, and no stat is needed.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "metadata.h"

namespace dicomd::metadata {

// Which version of a stored file a parsed header belongs to: its content
// hash when the store keeps one, else its size and time.
struct FileVersion {
  uint64_t size = 0;
  int64_t modified_ns = 0;
  std::string content_hash;
  bool operator==(const FileVersion&) const = default;
};

class HeaderCache {
 public:
  explicit HeaderCache(size_t capacity_bytes) : capacity_(capacity_bytes) {}

  // The header of `key` if it was checked when the store's removal count
  // was `removals` (nothing removed since), else null.
  std::shared_ptr<const ParsedHeader> find_unchanged(const std::string& key, uint64_t removals);
  // The header of `key` at `version`, or null (and a stale entry is
  // dropped); a hit is marked checked at `removals`.
  std::shared_ptr<const ParsedHeader> find(const std::string& key, const FileVersion& version, uint64_t removals);
  // Keeps a header, evicting the least recently used ones to stay in bounds.
  // A header larger than an eighth of the capacity is not kept.
  void insert(const std::string& key, const FileVersion& version, uint64_t removals,
              std::shared_ptr<const ParsedHeader> header);

  size_t bytes() const;
  size_t entries() const;

 private:
  struct Entry {
    std::string key;
    FileVersion version;
    uint64_t checked_at;  // the store's removal count when last checked
    std::shared_ptr<const ParsedHeader> header;
    size_t bytes;
  };
  using Lru = std::list<Entry>;  // most recently used first

  void erase(Lru::iterator it);

  const size_t capacity_;
  mutable std::mutex mutex_;
  Lru lru_;
  std::unordered_map<std::string, Lru::iterator> index_;
  size_t bytes_ = 0;
};

}  // namespace dicomd::metadata
