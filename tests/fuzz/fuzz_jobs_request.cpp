// POST /jobs bodies through the jobs plugin's checks: whatever the bytes,
// a refusal (HttpError 400) or a request inside the documented bounds whose
// params, read back as a worker reads them, give the same request (and so
// the same dedup key).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <dicomd/cpp/http.hpp>
#include <dicomd/cpp/names.hpp>

#include "animation_request.h"

using namespace dicomd::jobs;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  AnimationRequest r;
  try {
    r = parse_animation_request(input);
  } catch (const dicomd::HttpError& e) {
    if (e.status != 400) __builtin_trap();
    return 0;
  }
  if (r.fps < kMinFps || r.fps > kMaxFps || r.size < kMinSize || r.size > kMaxSize) __builtin_trap();
  if (!dicomd::is_valid_name(r.study) || r.series.empty() == r.file.empty()) __builtin_trap();
  if (!r.file.empty() && !dicomd::is_valid_name(r.file)) __builtin_trap();
  if (r.window && !(r.window->second > 0)) __builtin_trap();
  AnimationRequest back = animation_from_params(r.params_json());
  if (back.dedup_key() != r.dedup_key()) __builtin_trap();
  return 0;
}
