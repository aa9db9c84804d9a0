#include "server/admission.h"

namespace dicomd {

std::optional<std::string> Admission::admit(uint64_t body_bytes, Reservation& out) {
  if (body_bytes == 0) return std::nullopt;
  bool upload = body_bytes >= upload_bytes_;
  if (upload && uploads_in_flight_.fetch_add(1) >= max_uploads_) {
    --uploads_in_flight_;
    return "too many uploads at once; retry shortly";
  }
  if (body_bytes_held_.fetch_add(body_bytes) + body_bytes > max_body_memory_) {
    body_bytes_held_ -= body_bytes;
    if (upload) --uploads_in_flight_;
    return "the server holds too much request data; retry shortly";
  }
  out = {body_bytes, upload};
  return std::nullopt;
}

void Admission::release(Reservation& r) {
  body_bytes_held_ -= r.bytes;
  if (r.upload) --uploads_in_flight_;
  r = {};
}

}  // namespace dicomd
