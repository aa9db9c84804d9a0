// The isolated job "render": request = options header + DICOM bytes;
// output = the PNG, or an error message with status DICOMD_E_INVALID (bad
// request, 400) or DICOMD_E_UNSUPPORTED (not renderable, 422).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <dicomd/abi.h>

#include "display.h"

namespace dicomd::render {

std::string encode_request(const RenderOptions& options, std::string_view dicom_bytes);
// Runs in the worker. Writes the PNG to `write` as it is encoded (pieces of
// about a MiB), or the error message; every error is found before the first
// piece is written.
dicomd_status run_render_job(std::string_view request, const std::function<void(std::string_view)>& write);

}  // namespace dicomd::render
