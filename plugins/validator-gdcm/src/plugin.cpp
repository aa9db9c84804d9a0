// validator-gdcm: decides whether bytes are DICOM, in isolated workers.
// Foundation stage: declares POST /validate and dicomd.validator; answers 501
// until the validation issue implements them.
#include <dicomd/cpp/plugin.hpp>
#include <dicomd/services/validator_v1.h>

#include <array>

namespace {

class ValidatorGdcmPlugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "validator-gdcm";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr const char* kDescription = "DICOM validation with GDCM in isolated worker processes";
  static constexpr std::array kProvides{dicomd_service_ref{DICOMD_VALIDATOR_SERVICE, 1, 0}};
  static constexpr std::array<dicomd_service_ref, 0> kRequires{};
  static constexpr auto routes() {
    return std::array{
        dicomd_route{"POST", "/validate", dicomd::route<&ValidatorGdcmPlugin::not_implemented>},
    };
  }

  ValidatorGdcmPlugin(dicomd::Host host, std::string_view) : Plugin(host) {
    validator_.self = this;
    host.provide(DICOMD_VALIDATOR_SERVICE, 1, &validator_);
  }

  void not_implemented(const dicomd::Request& req, dicomd::Response& res) {
    res.error(501, "not implemented yet: " + std::string(req.method()) + " " + std::string(req.path()));
  }

 private:
  dicomd_validator_v1 validator_{sizeof(dicomd_validator_v1), nullptr,
                                 [](void*, dicomd_str, dicomd_sink) -> dicomd_status { return DICOMD_E_UNSUPPORTED; }};
};

}  // namespace

DICOMD_PLUGIN(ValidatorGdcmPlugin)
