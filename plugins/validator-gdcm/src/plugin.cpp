// validator-gdcm: decides by content whether bytes are DICOM. The check runs
// GDCM in the host's isolated worker processes: Debian's GDCM aborts the
// process on some malformed input (docs/library-notes.md, "GDCM").
#include <dicomd/cpp/config.hpp>
#include <dicomd/cpp/json.hpp>
#include <dicomd/cpp/plugin.hpp>

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
  static void check_config(std::string_view config) { dicomd::PluginConfig(config).finish(); }
  static constexpr auto routes() {
    return std::array{dicomd_route{"POST", "/validate", dicomd::route<&ValidatorGdcmPlugin::validate_route>}};
  }

  static constexpr auto route_docs() {
    return std::array<const char*, 1>{
        R"json({"summary": "Is this DICOM? The validator's verdict; nothing is stored",
            "requestBody": {"required": true, "content": {
              "application/dicom": {"schema": {"type": "string", "format": "binary"}},
              "multipart/form-data": {"schema": {"type": "object", "properties": {
                "files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}},
            "responses": {"200": {"description": "{\"valid\":true,…} for a raw body; {\"files\":[…]} for a form",
                                  "content": {"application/json": {"schema": {"type": "object"}}}},
                          "400": {"description": "an empty body, or a form without files"}}})json",
    };
  }

  ValidatorGdcmPlugin(dicomd::Host host, std::string_view config) : Plugin(host) {
    dicomd::PluginConfig(config).finish();  // no keys yet: any key is a mistake
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
    dicomd_status status = host().isolate(kValidateJob, bytes, reason);  // before `reason` is passed on
    return verdict_of(status, std::move(reason));
  }

  // The same on a file's first `length` bytes: the worker maps the file
  // (isolate_file), so the bytes cross no pipe and sit in no heap. Every
  // host that loads this plugin has isolate_file: the loader refuses a
  // plugin built for a newer ABI minor than its own.
  dicomd::validator::Verdict judge_file(int fd, uint64_t length) const {
    if (length == 0) return {false, "empty file"};
    std::string reason;
    dicomd_status status = host().isolate_file(kValidateJob, {}, fd, 0, length, reason);
    return verdict_of(status, std::move(reason));
  }

  static dicomd::validator::Verdict verdict_of(dicomd_status status, std::string reason) {
    switch (status) {
      case DICOMD_OK:
        return {true, ""};
      case DICOMD_E_INVALID:
        return {false, reason.empty() ? "not a DICOM file" : reason};
      case DICOMD_E_TIMEOUT:
        return {false, "the DICOM parser timed out on this file"};
      case DICOMD_E_WORKER_DIED:
        return {false, "the DICOM parser crashed on this file"};
      case DICOMD_E_UNAVAILABLE:  // every worker busy: the file is not at fault
        throw dicomd::ServiceError(DICOMD_E_UNAVAILABLE, "the validators are busy; retry shortly");
      default:
        throw std::runtime_error("isolation service failed with status " + std::to_string(status));
    }
  }

  // POST /validate: a raw body (one file) or multipart "files" parts.
  void validate_route(const dicomd::Request& req, dicomd::Response& res);

 private:
  // dicomd.validator v1.
  dicomd_status validate(dicomd_str bytes, dicomd_sink reason) {
    auto v = judge(dicomd::view(bytes));
    if (v.valid) return DICOMD_OK;
    reason.write(reason.ctx, v.reason.data(), v.reason.size());
    return DICOMD_E_INVALID;
  }

  dicomd_status validate_file(int32_t fd, uint64_t length, dicomd_sink reason) {
    auto v = judge_file(fd, length);
    if (v.valid) return DICOMD_OK;
    reason.write(reason.ctx, v.reason.data(), v.reason.size());
    return DICOMD_E_INVALID;
  }

  dicomd_validator_v1 validator_{sizeof(dicomd_validator_v1), this, dicomd::service<&ValidatorGdcmPlugin::validate>,
                                 dicomd::service<&ValidatorGdcmPlugin::validate_file>};
};

// {"reason"?, "valid"} of one verdict (keys sorted, as the original service wrote them).
void write_verdict(dicomd::JsonWriter& w, const dicomd::validator::Verdict& v) {
  if (!v.valid) w.key("reason").string(v.reason);
  w.key("valid").boolean(v.valid);
}

void ValidatorGdcmPlugin::validate_route(const dicomd::Request& req, dicomd::Response& res) {
  dicomd::JsonWriter w;
  w.start_object();
  if (req.media_type() != "multipart/form-data") {
    if (req.body().empty()) throw dicomd::HttpError(400, "empty body: send the file's bytes or a multipart form");
    write_verdict(w, judge(req.body()));
    w.key("success").boolean(true).end_object();
    res.json(200, w.text());
    return;
  }
  size_t count = 0;
  w.key("files").start_array();
  bool ok = host().parse_multipart(req, [&](const dicomd_form_part& part) {
    if (dicomd::view(part.name) != "files") return;
    ++count;
    w.start_object().key("name").string(dicomd::view(part.filename));
    write_verdict(w, judge(dicomd::view(part.data)));
    w.end_object();
  });
  if (!ok) throw dicomd::HttpError(400, "malformed multipart body");
  if (count == 0) throw dicomd::HttpError(400, "no files part in the form");
  w.end_array().key("success").boolean(true).end_object();
  res.json(200, w.text());
}

}  // namespace

DICOMD_PLUGIN(ValidatorGdcmPlugin)
