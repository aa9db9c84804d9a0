#include "render_job.h"

#include <cstring>

#include "decode.h"
#include "png.h"

namespace dicomd::render {
namespace {

// Fixed-size header in front of the file bytes; both ends are this binary.
struct RequestHeader {
  uint32_t frame, size, bits;
  uint32_t has_window;
  double center, width;
  char function[16];
};

}  // namespace

std::string encode_request(const RenderOptions& o, std::string_view dicom_bytes) {
  RequestHeader h{};
  h.frame = o.frame;
  h.size = o.size;
  h.bits = o.bits;
  if (o.window) {
    h.has_window = 1;
    h.center = o.window->center;
    h.width = o.window->width;
    std::strncpy(h.function, o.window->function.c_str(), sizeof h.function - 1);
  }
  std::string out(sizeof h, '\0');
  std::memcpy(out.data(), &h, sizeof h);
  out.append(dicom_bytes);
  return out;
}

dicomd_status run_render_job(std::string_view request, const std::function<void(std::string_view)>& write) {
  if (request.size() < sizeof(RequestHeader)) return DICOMD_E_INTERNAL;
  RequestHeader h;
  std::memcpy(&h, request.data(), sizeof h);
  h.function[sizeof h.function - 1] = '\0';
  RenderOptions o;
  o.frame = h.frame;
  o.size = h.size;
  o.bits = h.bits;
  if (h.has_window) o.window = Window{h.center, h.width, h.function};
  try {
    Image image = to_display(decode_frame(request.substr(sizeof h), o.frame), o);  // the frame may view `request`
    encode_png(image, write);
    return DICOMD_OK;
  } catch (const BadRequest& e) {
    write(e.what());
    return DICOMD_E_INVALID;
  } catch (const NotRenderable& e) {
    write(e.what());
    return DICOMD_E_UNSUPPORTED;
  }
}

}  // namespace dicomd::render
