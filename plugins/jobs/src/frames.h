// Which frames an animation shows, in which order. When it is requested:
// the stored files it reads (checked to exist, counted against the limit).
// When it runs: those files in the order a viewer stacks them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <dicomd/cpp/services.hpp>

#include "animation_request.h"

namespace dicomd::jobs {

struct FrameRef {
  std::string file;
  uint32_t frame = 0;
};

// The files of the request: the one file, or every instance of the series
// in the study (through the index). HttpError 404 for an unknown study,
// file or series, 422 for a file without an image, 400 past max_frames.
std::vector<std::string> source_files(const AnimationRequest& request, const Storage& storage, const Index& index,
                                      const Metadata& metadata, uint32_t max_frames);

// The frames to render: each frame of the one file; for a series, the
// first frame of each instance that has an image, by InstanceNumber, then
// by position along the slice normal (ImagePositionPatient projected on
// the normal of ImageOrientationPatient), then by name. `checked(done)`
// is called after each file read (progress; it may throw to stop).
std::vector<FrameRef> ordered_frames(const AnimationRequest& request, const std::vector<std::string>& files,
                                     const Metadata& metadata, const std::function<void(size_t)>& checked);

}  // namespace dicomd::jobs
