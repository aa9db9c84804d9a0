// render-png: the displayed image as PNG.
// Foundation stage: declares GET /files/:study/:file/png and dicomd.render;
// answers 501 until the render issue implements them.
#include <dicomd/cpp/plugin.hpp>
#include <dicomd/services/render_v1.h>
#include <dicomd/services/storage_v1.h>

#include <array>

namespace {

class RenderPngPlugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "render-png";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr const char* kDescription = "DICOM images rendered for display as PNG";
  static constexpr std::array kProvides{dicomd_service_ref{DICOMD_RENDER_SERVICE, 1, 0}};
  static constexpr std::array kRequires{dicomd_service_ref{DICOMD_STORAGE_SERVICE, 1, 0}};
  static constexpr auto routes() {
    return std::array{
        dicomd_route{"GET", "/files/:study/:file/png", dicomd::route<&RenderPngPlugin::not_implemented>},
    };
  }

  RenderPngPlugin(dicomd::Host host, std::string_view) : Plugin(host) {
    storage_ = host.acquire<dicomd_storage_v1>(DICOMD_STORAGE_SERVICE, 1);
    render_.self = this;
    host.provide(DICOMD_RENDER_SERVICE, 1, &render_);
  }

  void not_implemented(const dicomd::Request& req, dicomd::Response& res) {
    res.error(501, "not implemented yet: " + std::string(req.method()) + " " + std::string(req.path()));
  }

 private:
  const dicomd_storage_v1* storage_ = nullptr;
  dicomd_render_v1 render_{sizeof(dicomd_render_v1), nullptr,
                           [](void*, dicomd_str, dicomd_str, const dicomd_render_options*,
                              dicomd_sink) -> dicomd_status { return DICOMD_E_UNSUPPORTED; }};
};

}  // namespace

DICOMD_PLUGIN(RenderPngPlugin)
