// render-png: the image a viewer shows by default, as PNG. Decoding and the
// display pipeline run in isolated worker processes (decoders are the
// riskiest code); this side parses options, caches by ETag and maps errors.
#include <dicomd/cpp/config.hpp>
#include <dicomd/cpp/plugin.hpp>

#include <array>
#include <cstdio>
#include <cmath>
#include <cstdlib>

#include "render_job.h"

namespace {

using dicomd::HttpError;
using dicomd::render::RenderOptions;
using dicomd::render::Window;

constexpr std::string_view kRenderJob = "render";

uint32_t parse_uint(std::string_view text, uint32_t min, uint32_t max, const char* what) {
  uint64_t v = 0;
  if (text.empty() || text.size() > 9) throw HttpError(400, std::string("invalid ") + what + " parameter");
  for (char c : text) {
    if (c < '0' || c > '9') throw HttpError(400, std::string("invalid ") + what + " parameter");
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v < min || v > max)
    throw HttpError(400, std::string(what) + " must be from " + std::to_string(min) + " to " + std::to_string(max));
  return static_cast<uint32_t>(v);
}

double parse_double(const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v))
    throw HttpError(400, "invalid window parameter: use window=CENTER,WIDTH[,LINEAR|LINEAR_EXACT|SIGMOID]");
  return v;
}

// window=CENTER,WIDTH[,FUNCTION]
Window parse_window(std::string_view text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    parts.emplace_back(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (parts.size() < 2 || parts.size() > 3)
    throw HttpError(400, "invalid window parameter: use window=CENTER,WIDTH[,LINEAR|LINEAR_EXACT|SIGMOID]");
  Window w{parse_double(parts[0]), parse_double(parts[1]), "LINEAR"};
  if (w.width <= 0) throw HttpError(400, "window width must be greater than 0");
  if (parts.size() == 3) {
    std::string f = parts[2];
    for (auto& c : f) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (f != "LINEAR" && f != "LINEAR_EXACT" && f != "SIGMOID")
      throw HttpError(400, "window function must be LINEAR, LINEAR_EXACT or SIGMOID");
    w.function = f;
  }
  return w;
}

RenderOptions parse_options(const dicomd::Request& req) {
  RenderOptions o;
  if (auto v = req.query("frame")) o.frame = parse_uint(*v, 0, 1000000, "frame");
  if (auto v = req.query("size")) o.size = parse_uint(*v, 1, 8192, "size");
  if (auto v = req.query("bits")) {
    o.bits = parse_uint(*v, 8, 16, "bits");
    if (o.bits != 8 && o.bits != 16) throw HttpError(400, "bits must be 8 or 16");
  }
  if (auto v = req.query("window")) o.window = parse_window(*v);
  return o;
}

// A strong ETag: the stored file's identity and the rendering options.
// The stored file's identity: its content hash, or size and time where the
// store keeps no hash. 404 when it is absent.
std::string identity_of(const dicomd::Storage& storage, std::string_view study, std::string_view file) {
  std::string hash = storage.content_hash(study, file);
  if (!hash.empty()) return hash;
  auto info = storage.stat(study, file);
  return std::to_string(info.size) + "-" + std::to_string(info.modified_ns);
}

// A strong ETag: the file's identity, the renderer's version (a new
// renderer may draw the same file differently) and the options.
std::string etag_for(std::string_view identity, std::string_view renderer_version, const RenderOptions& o) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "-f%u-s%u-b%u", o.frame, o.size, o.bits);
  std::string tag = "\"png-" + std::string(identity) + "-r" + std::string(renderer_version) + buf;
  if (o.window) {
    std::snprintf(buf, sizeof buf, "-w%.17g,%.17g,%s", o.window->center, o.window->width, o.window->function.c_str());
    tag += buf;
  }
  return tag + "\"";
}

class RenderPngPlugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "render-png";
  static constexpr const char* kVersion = "0.2.0";  // in every ETag: a new renderer may draw differently
  static constexpr const char* kDescription = "DICOM images rendered for display as PNG";
  static constexpr std::array kProvides{dicomd_service_ref{DICOMD_RENDER_SERVICE, 1, 0}};
  // The job queue (optional): images the jobs plugin rendered ahead of time
  // (thumbnails at ingest) are served from its results.
  static constexpr std::array kRequires{dicomd_service_ref{DICOMD_STORAGE_SERVICE, 1, 0},
                                        dicomd_service_ref{DICOMD_JOBQUEUE_SERVICE, 1, 1}};
  static void check_config(std::string_view config) { dicomd::PluginConfig(config).finish(); }
  static constexpr auto routes() {
    return std::array{dicomd_route{"GET", "/files/:study/:file/png", dicomd::route<&RenderPngPlugin::png_route>}};
  }

  static constexpr auto route_docs() {
    return std::array<const char*, 1>{
        R"json({"summary": "A frame as PNG, as a viewer shows it by default",
            "parameters": [
              {"name": "frame", "in": "query", "description": "0-based frame (default 0)", "schema": {"type": "integer", "minimum": 0}},
              {"name": "window", "in": "query", "description": "C,W or C,W,FUNCTION (LINEAR, LINEAR_EXACT, SIGMOID)", "schema": {"type": "string"}},
              {"name": "size", "in": "query", "description": "fit into N×N, never enlarged", "schema": {"type": "integer", "minimum": 1, "maximum": 8192}},
              {"name": "bits", "in": "query", "description": "16: modality values as 16-bit grey", "schema": {"type": "integer", "enum": [8, 16]}},
              {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "the image", "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}},
                          "304": {"description": "unchanged since the ETag given"},
                          "400": {"description": "a bad option",
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                          "404": {"description": "file or frame not found"},
                          "422": {"description": "no image in the file, or one that cannot be decoded"}}})json",
    };
  }

  RenderPngPlugin(dicomd::Host host, std::string_view config)
      : Plugin(host),
        storage_(host.acquire<dicomd_storage_v1>(DICOMD_STORAGE_SERVICE, 1)),
        prerendered_(host.acquire<dicomd_jobqueue_v1>(DICOMD_JOBQUEUE_SERVICE, 1)) {
    dicomd::PluginConfig(config).finish();  // no keys yet: any key is a mistake
    if (!storage_) throw std::runtime_error("no storage service");
    host.provide(DICOMD_RENDER_SERVICE, 1, &render_);
  }

  // Runs in a worker process.
  static dicomd_status isolated_job(std::string_view kind, std::string_view input, dicomd_sink out) {
    if (kind != kRenderJob) return DICOMD_E_INVALID;
    return dicomd::render::run_render_job(
        input, [out](std::string_view piece) { out.write(out.ctx, piece.data(), piece.size()); });
  }

  // GET /files/:study/:file/png?frame=&window=&size=&bits=
  void png_route(const dicomd::Request& req, dicomd::Response& res) {
    std::string_view study = req.name_param("study"), file = req.name_param("file");
    RenderOptions options = parse_options(req);
    std::string etag = etag_for(identity_of(storage_, study, file), kVersion, options);
    if (res.not_modified(req, etag)) return;
    auto stored = prerendered(options, etag);
    res.send(200, "image/png", stored ? stored->body : render(study, file, options));
  }

 private:
  // A render the jobs plugin made ahead of time under this ETag: the same
  // bytes as a fresh render, as the ETag names the file's version, this
  // renderer's and the options. Only sized first frames are made ahead
  // (thumbnails), so other requests do not look.
  std::optional<dicomd::JobQueue::Result> prerendered(const RenderOptions& o, const std::string& etag) const {
    if (!prerendered_ || !o.size || o.frame || o.bits != 8 || o.window) return std::nullopt;
    try {
      return prerendered_.result(0, etag);
    } catch (const dicomd::ServiceError&) {  // the queue's database is unreachable: render instead
      return std::nullopt;
    }
  }

  // The PNG, or HttpError with the status the failure deserves.
  std::string render(std::string_view study, std::string_view file, const RenderOptions& options) const {
    std::string output;
    switch (run_job(study, file, options, output)) {
      case DICOMD_OK:
        return output;
      case DICOMD_E_INVALID:
        throw HttpError(400, output);
      case DICOMD_E_UNSUPPORTED:
        throw HttpError(422, output);
      case DICOMD_E_TIMEOUT:
        throw HttpError(422, "the pixel data could not be decoded in time");
      case DICOMD_E_WORKER_DIED:
        throw HttpError(422, "the pixel data cannot be decoded (the decoder crashed)");
      case DICOMD_E_UNAVAILABLE:  // every worker busy
        throw HttpError(503, "the renderers are busy; retry shortly");
      default:
        throw std::runtime_error("render job failed");
    }
  }

  // The render job on the stored file: the worker maps the file itself when
  // the storage gives a descriptor (ABI 1.4; every host that loads this
  // plugin has isolate_file), so no copy of a 10 MB radiograph sits in this
  // process's heap while the job runs or waits for a worker; else the bytes
  // go through the pipe.
  dicomd_status run_job(std::string_view study, std::string_view file, const RenderOptions& options,
                        std::string& output) const {
    if (auto opened = storage_.open(study, file))
      return host().isolate_file(kRenderJob, dicomd::render::encode_request(options, {}), opened->fd.get(), 0,
                                 opened->size, output);
    std::string request;
    storage_.read(study, file,
                  [&](std::string_view bytes) { request = dicomd::render::encode_request(options, bytes); });
    return host().isolate(kRenderJob, request, output);
  }

  // dicomd.render v1.
  static RenderOptions options_of(const dicomd_render_options* o) {
    RenderOptions options;
    options.frame = o->frame;
    options.size = o->size;
    options.bits = o->bits == 16 ? 16 : 8;
    if (o->has_window) options.window = Window{o->window_center, o->window_width, "LINEAR"};
    return options;
  }

  dicomd_status render_png(dicomd_str study, dicomd_str file, const dicomd_render_options* o, dicomd_sink png) {
    RenderOptions options = options_of(o);
    std::string out = render(dicomd::view(study), dicomd::view(file), options);
    png.write(png.ctx, out.data(), out.size());
    return DICOMD_OK;
  }

  // dicomd.render v1 (1.8): the ETag png_route answers with.
  dicomd_status etag_png(dicomd_str study, dicomd_str file, const dicomd_render_options* o, dicomd_sink out) {
    std::string etag =
        etag_for(identity_of(storage_, dicomd::view(study), dicomd::view(file)), kVersion, options_of(o));
    out.write(out.ctx, etag.data(), etag.size());
    return DICOMD_OK;
  }

  dicomd::Storage storage_;
  dicomd::JobQueue prerendered_;
  dicomd_render_v1 render_{sizeof(dicomd_render_v1), this, dicomd::service<&RenderPngPlugin::render_png>,
                           dicomd::service<&RenderPngPlugin::etag_png>};
};

}  // namespace

DICOMD_PLUGIN(RenderPngPlugin)
