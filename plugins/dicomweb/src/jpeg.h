// Rendered images as JPEG (PS3.18's default rendered type): the renderer's
// 8-bit PNG decoded (lodepng) and compressed again (libjpeg-turbo).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dicomd::dicomweb {

// nullopt when `png` is not an 8-bit grey or colour PNG.
std::optional<std::string> png_to_jpeg(std::string_view png, int quality);

}  // namespace dicomd::dicomweb
