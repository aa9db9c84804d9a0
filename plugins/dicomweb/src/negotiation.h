// Accept negotiation (PS3.18 8.7): what a client asks for, in its order of
// preference, and whether one of those is something we can answer with.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "multipart.h"

namespace dicomd::dicomweb {

// The media ranges of an Accept header, best first (q=0 left out); `*/*`
// alone when the header is absent or empty. nullopt when malformed.
std::optional<std::vector<MediaType>> parse_accept(std::optional<std::string_view> header);

// Whether `range` ("*/*", "image/*", "image/png") covers `type`.
bool covers(std::string_view range, std::string_view type);

// The first of `offered` (single-part media types, our preference order)
// that a range accepts, or nullopt (406).
std::optional<std::string> choose_single(const std::vector<MediaType>& accept, const std::vector<std::string>& offered);

// A multipart/related answer of `part_type` parts: accepted when a range is
// multipart/related (or */*) whose `type` covers part_type (absent: the
// resource's default, `default_part_type`) and whose transfer-syntax is
// absent, "*" or one of `syntaxes` (the stored ones). Returns the
// transfer-syntax the client named ("" when none, "*" for any).
std::optional<std::string> accepts_multipart(const std::vector<MediaType>& accept, std::string_view part_type,
                                             std::string_view default_part_type,
                                             const std::vector<std::string>& syntaxes);

}  // namespace dicomd::dicomweb
