// WADO-RS rendered and thumbnail resources (PS3.18 10.4.1.1.3, 10.4.1.1.4):
// the render service's 8-bit PNG, or that PNG as JPEG.
#include <charconv>
#include <cmath>

#include "dicomweb.h"
#include "jpeg.h"
#include "negotiation.h"

namespace dicomd::dicomweb {
namespace {

constexpr uint32_t kThumbnailSize = 128;
constexpr uint32_t kMaxViewport = 4096;
constexpr int kDefaultQuality = 90;

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    size_t comma = s.find(',');
    out.push_back(s.substr(0, comma));
    if (comma == std::string_view::npos) return out;
    s.remove_prefix(comma + 1);
  }
}

template <class T>
bool parse_number(std::string_view s, T& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

struct ImageOptions {
  dicomd_render_options render{sizeof(dicomd_render_options), 0, 0, 8, 0, 0, 0};
  int quality = kDefaultQuality;
};

// window=center,width[,linear], viewport=width,height, quality=1..100.
ImageOptions parse_image_options(const Request& req, bool thumbnail) {
  ImageOptions o;
  if (thumbnail) o.render.size = kThumbnailSize;
  if (auto window = req.query("window")) {
    auto parts = split(*window);
    double center = 0, width = 0;
    if (parts.size() < 2 || parts.size() > 3 || !parse_number(parts[0], center) || !parse_number(parts[1], width) ||
        !std::isfinite(center) || !std::isfinite(width) || width <= 0)
      throw HttpError(400, "window is center,width[,function] with a width above 0");
    if (parts.size() == 3 && parts[2] != "linear" && parts[2] != "LINEAR")
      throw HttpError(400, "window function: only linear is supported");
    o.render.has_window = 1;
    o.render.window_center = center;
    o.render.window_width = width;
  }
  if (auto viewport = req.query("viewport")) {
    auto parts = split(*viewport);
    uint32_t w = 0, h = 0;
    if (parts.size() != 2 || !parse_number(parts[0], w) || !parse_number(parts[1], h) || w == 0 || h == 0 ||
        w > kMaxViewport || h > kMaxViewport)
      throw HttpError(400, "viewport is width,height, each from 1 to 4096 (cropping is not supported)");
    o.render.size = std::min(w, h);
  }
  if (auto quality = req.query("quality")) {
    if (!parse_number(*quality, o.quality) || o.quality < 1 || o.quality > 100)
      throw HttpError(400, "quality is a whole number from 1 to 100");
  }
  return o;
}

}  // namespace

uint32_t DicomWeb::rendered_frame(const Request& req) const {
  if (!s_.render) throw HttpError(503, "rendered images need the render-png plugin, which is disabled");
  uint32_t frame = 0;
  if (auto f = req.param("frames")) {
    if (!parse_number(*f, frame) || frame == 0) throw HttpError(400, "a rendered frame is one whole number from 1");
    --frame;
  }
  return frame;
}

InstanceRef DicomWeb::representative(const Request& req) const {
  auto instances = instances_of(req);
  // The middle of the first series: a slice with anatomy rather than the
  // edge of the scan.
  size_t first_series_end = 0;
  while (first_series_end < instances.size() && instances[first_series_end].series_uid == instances[0].series_uid)
    ++first_series_end;
  return instances[first_series_end / 2];
}

void DicomWeb::answer_image(const Request& req, Response& res, const InstanceRef& instance, uint32_t frame,
                            bool thumbnail) {
  auto accept = parse_accept(req.header("accept"));
  if (!accept) throw HttpError(400, "malformed Accept header");
  auto type = choose_single(*accept, {"image/jpeg", "image/png"});
  if (!type) throw HttpError(406, "rendered images are image/jpeg or image/png");
  ImageOptions options = parse_image_options(req, thumbnail);
  options.render.frame = frame;
  std::string etag;
  if (s_.render.can_tag()) {
    etag = s_.render.etag(instance.study, instance.file, options.render);
    // The PNG's tag names the file, renderer and options; the JPEG's adds its quality.
    if (*type == "image/jpeg") etag.insert(etag.size() - 1, "-jpeg" + std::to_string(options.quality));
    if (res.not_modified(req, etag)) return;
  }
  std::string png = s_.render.png(instance.study, instance.file, options.render);
  if (*type == "image/png") {
    res.send(200, "image/png", png);
    return;
  }
  auto jpeg = png_to_jpeg(png, options.quality);
  if (!jpeg) throw HttpError(500, "the rendered image could not be encoded as JPEG");
  res.send(200, "image/jpeg", *jpeg);
}

void DicomWeb::rendered(const Request& req, Response& res) {
  settings_.cors.add_headers(req, res);
  uint32_t frame = rendered_frame(req);
  InstanceRef instance = instances_of(req).front();
  answer_image(req, res, instance, frame, false);
}

void DicomWeb::thumbnail(const Request& req, Response& res) {
  settings_.cors.add_headers(req, res);
  uint32_t frame = rendered_frame(req);
  InstanceRef instance = req.param("instance") ? instances_of(req).front() : representative(req);
  answer_image(req, res, instance, frame, true);
}

}  // namespace dicomd::dicomweb
