// The isolated job "render": request = options header + DICOM bytes;
// output = the PNG, or an error message with status DICOMD_E_INVALID (bad
// request, 400) or DICOMD_E_UNSUPPORTED (not renderable, 422).
#pragma once

#include <string>
#include <string_view>

#include <dicomd/abi.h>

#include "display.h"

namespace dicomd::render {

std::string encode_request(const RenderOptions& options, std::string_view dicom_bytes);
// Runs in the worker.
dicomd_status run_render_job(std::string_view request, std::string& output);

}  // namespace dicomd::render
