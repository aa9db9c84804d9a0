// POST /jobs {"type":"animate",...}: the request checked and normalised,
// before anything is looked up. Every refusal is an HttpError 400 naming
// the member and its range.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "animation/encoder.h"

namespace dicomd::jobs {

struct Limits {
  uint32_t max_frames = 1000;
};

// The bounds of the request's numbers (docs/api.md, "Jobs").
inline constexpr uint32_t kMinFps = 1, kMaxFps = 50;  // GIF delays are 1/100 s: 50 fps is 2/100
inline constexpr uint32_t kMinSize = 16, kMaxSize = 1024;

struct AnimationRequest {
  std::string study;
  std::string series;  // a SeriesInstanceUID, or
  std::string file;    // one (multi-frame) file
  Format format = Format::kGif;
  uint32_t fps = 10;
  uint32_t size = 256;
  std::optional<std::pair<double, double>> window;  // center, width

  // The job's params (JSON): what the worker needs, and the dedup key's
  // source: the same request gives the same key.
  std::string params_json() const;
  std::string dedup_key() const;
};

// Throws HttpError(400) for a body that is not such a request.
AnimationRequest parse_animation_request(std::string_view body);
// The request as the worker reads it back from the job's params.
AnimationRequest animation_from_params(std::string_view params_json);

}  // namespace dicomd::jobs
