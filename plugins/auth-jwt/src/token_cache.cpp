#include "token_cache.h"

#include <mutex>

namespace dicomd::auth {

std::optional<VerifiedToken> TokenCache::find(std::string_view token, int64_t now) const {
  std::shared_lock lock(mutex_);
  auto it = entries_.find(token);
  if (it == entries_.end() || now < it->second->valid_from || now >= it->second->valid_until) return std::nullopt;
  return *it->second;
}

void TokenCache::insert(std::string_view token, std::shared_ptr<const VerifiedToken> verified, int64_t now) {
  std::unique_lock lock(mutex_);
  if (entries_.size() >= capacity_) {
    std::erase_if(entries_, [now](const auto& entry) { return now >= entry.second->valid_until; });
    if (entries_.size() >= capacity_) entries_.clear();
  }
  entries_.insert_or_assign(std::string(token), std::move(verified));
}

size_t TokenCache::size() const {
  std::shared_lock lock(mutex_);
  return entries_.size();
}

}  // namespace dicomd::auth
