// validator-gdcm: decides by content whether bytes are DICOM. The check runs
// GDCM in the host's isolated worker processes: Debian's GDCM aborts the
// process on some malformed input (docs/library-notes.md).
#include <dicomd/cpp/plugin.hpp>
#include <dicomd/services/validator_v1.h>

#include <array>

#include "dicom_check.h"

namespace {

constexpr std::string_view kValidateJob = "validate";

class ValidatorGdcmPlugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "validator-gdcm";
  static constexpr const char* kVersion = "0.2.0";
  static constexpr const char* kDescription = "DICOM validation with GDCM in isolated worker processes";
  static constexpr std::array kProvides{dicomd_service_ref{DICOMD_VALIDATOR_SERVICE, 1, 0}};
  static constexpr std::array<dicomd_service_ref, 0> kRequires{};
  static constexpr auto routes() {
    return std::array{dicomd_route{"POST", "/validate", dicomd::route<&ValidatorGdcmPlugin::validate_route>}};
  }

  ValidatorGdcmPlugin(dicomd::Host host, std::string_view) : Plugin(host) {
    validator_.self = this;
    host.provide(DICOMD_VALIDATOR_SERVICE, 1, &validator_);
  }

  // Runs in a worker process: output is the reason, status OK or INVALID.
  static dicomd_status isolated_job(std::string_view kind, std::string_view input, dicomd_sink out) {
    if (kind != kValidateJob) return DICOMD_E_INVALID;
    dicomd::validator::Verdict v = dicomd::validator::check_dicom(input);
    if (v.valid) return DICOMD_OK;
    out.write(out.ctx, v.reason.data(), v.reason.size());
    return DICOMD_E_INVALID;
  }

  // The verdict on bytes, computed in a worker. A worker that crashes or
  // times out rejects the file: the parser could not read it.
  dicomd::validator::Verdict judge(std::string_view bytes) const {
    if (bytes.empty()) return {false, "empty file"};
    std::string reason;
    dicomd_status status = host().isolate(kValidateJob, bytes, reason);
    switch (status) {
      case DICOMD_OK:
        return {true, ""};
      case DICOMD_E_INVALID:
        return {false, reason.empty() ? "not a DICOM file" : reason};
      case DICOMD_E_TIMEOUT:
        return {false, "the DICOM parser timed out on this file"};
      case DICOMD_E_WORKER_DIED:
        return {false, "the DICOM parser crashed on this file"};
      default:
        throw std::runtime_error("isolation service failed with status " + std::to_string(status));
    }
  }

  // POST /validate: a raw body (one file) or multipart "files" parts.
  void validate_route(const dicomd::Request& req, dicomd::Response& res);

 private:
  static dicomd_status validate_vtable(void* self, dicomd_str bytes, dicomd_sink reason) {
    try {
      auto v = static_cast<ValidatorGdcmPlugin*>(self)->judge(dicomd::view(bytes));
      if (v.valid) return DICOMD_OK;
      reason.write(reason.ctx, v.reason.data(), v.reason.size());
      return DICOMD_E_INVALID;
    } catch (const std::exception& e) {
      static_cast<ValidatorGdcmPlugin*>(self)->host().error(e.what());
      return DICOMD_E_INTERNAL;
    }
  }

  dicomd_validator_v1 validator_{sizeof(dicomd_validator_v1), nullptr, &validate_vtable};
};

std::string verdict_json(const dicomd::validator::Verdict& v) {
  std::string out = "{";
  if (!v.valid) out += "\"reason\":\"" + dicomd::json_escape(v.reason) + "\",";
  return out + "\"valid\":" + (v.valid ? "true" : "false") + "}";
}

void ValidatorGdcmPlugin::validate_route(const dicomd::Request& req, dicomd::Response& res) {
  std::string_view type = req.header("content-type").value_or("");
  if (type.substr(0, 19) != "multipart/form-data") {
    if (req.body().empty()) throw dicomd::HttpError(400, "empty body: send the file's bytes or a multipart form");
    std::string v = verdict_json(judge(req.body()));
    res.json(200, v.substr(0, v.size() - 1) + ",\"success\":true}");
    return;
  }
  std::string files;
  size_t count = 0;
  bool ok = host().parse_multipart(req, [&](const dicomd_form_part& part) {
    if (dicomd::view(part.name) != "files") return;
    std::string v = verdict_json(judge(dicomd::view(part.data)));
    files += std::string(count++ ? "," : "") + "{\"name\":\"" + dicomd::json_escape(dicomd::view(part.filename)) +
             "\"," + v.substr(1);
  });
  if (!ok) throw dicomd::HttpError(400, "malformed multipart body");
  if (count == 0) throw dicomd::HttpError(400, "no files part in the form");
  res.json(200, "{\"files\":[" + files + "],\"success\":true}");
}

}  // namespace

DICOMD_PLUGIN(ValidatorGdcmPlugin)
