#include "server/admission.h"

namespace dicomd {

std::optional<std::string> Admission::admit(uint64_t body_bytes, const std::string& client, Reservation& out) {
  if (body_bytes == 0) return std::nullopt;
  {
    std::lock_guard lock(mutex_);
    uint64_t& mine = per_client_[client];
    if (mine + body_bytes > max_per_client_) {
      if (mine == 0) per_client_.erase(client);
      return "this client holds too much request data; retry shortly";
    }
    mine += body_bytes;
  }
  auto give_back = [&] {
    std::lock_guard lock(mutex_);
    if ((per_client_[client] -= body_bytes) == 0) per_client_.erase(client);
  };
  bool upload = body_bytes >= upload_bytes_;
  if (upload && uploads_in_flight_.fetch_add(1) >= max_uploads_) {
    --uploads_in_flight_;
    give_back();
    return "too many uploads at once; retry shortly";
  }
  if (body_bytes_held_.fetch_add(body_bytes) + body_bytes > max_body_memory_) {
    body_bytes_held_ -= body_bytes;
    if (upload) --uploads_in_flight_;
    give_back();
    return "the server holds too much request data; retry shortly";
  }
  out = {body_bytes, upload, client};
  return std::nullopt;
}

void Admission::release(Reservation& r) {
  if (r.bytes > 0) {
    std::lock_guard lock(mutex_);
    auto it = per_client_.find(r.client);
    if (it != per_client_.end() && (it->second -= r.bytes) == 0) per_client_.erase(it);
  }
  body_bytes_held_ -= r.bytes;
  if (r.upload) --uploads_in_flight_;
  r = {};
}

}  // namespace dicomd
