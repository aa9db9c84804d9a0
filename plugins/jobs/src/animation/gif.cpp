// Animated GIF with giflib 5.2: GIF89a, a NETSCAPE2.0 loop, a graphic
// control block per frame. Grey frames use a palette of the 256 greys, so
// they are exact; colour frames are reduced to 256 colours each
// (GifQuantizeBuffer, median cut). GIF delays are in hundredths of a second.
#include <gif_lib.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "encoder.h"

namespace dicomd::jobs {
namespace {

struct ColorMapDeleter {
  void operator()(ColorMapObject* m) const { GifFreeMapObject(m); }
};
using ColorMap = std::unique_ptr<ColorMapObject, ColorMapDeleter>;

ColorMap grey_palette() {
  std::vector<GifColorType> colors(256);
  for (int i = 0; i < 256; ++i)
    colors[i] = {static_cast<GifByteType>(i), static_cast<GifByteType>(i), static_cast<GifByteType>(i)};
  return ColorMap(GifMakeMapObject(256, colors.data()));
}

class GifEncoder : public AnimationEncoder {
 public:
  explicit GifEncoder(uint32_t fps) : delay_cs_(static_cast<int>(std::clamp(std::lround(100.0 / fps), 2L, 100L))) {}
  ~GifEncoder() override {
    int error = 0;
    if (gif_) EGifCloseFile(gif_, &error);
  }

  void add(const Frame& frame) override {
    if (frame.pixels.size() != size_t{frame.width} * frame.height * frame.channels)
      throw std::runtime_error("a frame without its pixels");
    if (!gif_) start(frame);
    if (frame.width != width_ || frame.height != height_ || frame.channels != channels_)
      throw std::runtime_error("the frames differ in size or colour type");
    GraphicsControlBlock control{DISPOSE_DO_NOT, false, delay_cs_, NO_TRANSPARENT_COLOR};
    GifByteType extension[4];
    EGifGCBToExtension(&control, extension);
    check(EGifPutExtension(gif_, GRAPHICS_EXT_FUNC_CODE, 4, extension));
    if (channels_ == 1) {
      check(EGifPutImageDesc(gif_, 0, 0, static_cast<int>(width_), static_cast<int>(height_), false, nullptr));
      put_rows(frame.pixels.data());
      return;
    }
    std::vector<GifByteType> planes[3], indexes(size_t{width_} * height_);
    for (auto& p : planes) p.resize(indexes.size());
    for (size_t i = 0; i < indexes.size(); ++i)
      for (int c = 0; c < 3; ++c) planes[c][i] = frame.pixels[i * 3 + c];
    int colors = 256;
    std::vector<GifColorType> palette(256);
    if (GifQuantizeBuffer(width_, height_, &colors, planes[0].data(), planes[1].data(), planes[2].data(),
                          indexes.data(), palette.data()) == GIF_ERROR)
      throw std::runtime_error("a colour frame could not be reduced to 256 colours");
    ColorMap local(GifMakeMapObject(256, palette.data()));
    check(EGifPutImageDesc(gif_, 0, 0, static_cast<int>(width_), static_cast<int>(height_), false, local.get()));
    put_rows(indexes.data());
  }

  std::string finish() override {
    if (!gif_) throw std::runtime_error("no frames");
    int error = 0;
    int status = EGifCloseFile(gif_, &error);
    gif_ = nullptr;
    if (status == GIF_ERROR) throw std::runtime_error(std::string("GIF: ") + GifErrorString(error));
    return std::move(out_);
  }

 private:
  static int write(GifFileType* gif, const GifByteType* bytes, int length) {
    static_cast<GifEncoder*>(gif->UserData)
        ->out_.append(reinterpret_cast<const char*>(bytes), static_cast<size_t>(length));
    return length;
  }

  void check(int status) const {
    if (status == GIF_ERROR) throw std::runtime_error(std::string("GIF: ") + GifErrorString(gif_->Error));
  }

  void start(const Frame& first) {
    width_ = first.width;
    height_ = first.height;
    channels_ = first.channels;
    int error = 0;
    gif_ = EGifOpen(this, &GifEncoder::write, &error);
    if (!gif_) throw std::runtime_error(std::string("GIF: ") + GifErrorString(error));
    EGifSetGifVersion(gif_, true);
    ColorMap global = grey_palette();  // colour frames bring their own
    check(EGifPutScreenDesc(gif_, static_cast<int>(width_), static_cast<int>(height_), 8, 0, global.get()));
    // Loop for ever: the NETSCAPE2.0 application extension, count 0.
    static const GifByteType kApplication[] = {'N', 'E', 'T', 'S', 'C', 'A', 'P', 'E', '2', '.', '0'};
    static const GifByteType kLoop[] = {1, 0, 0};
    check(EGifPutExtensionLeader(gif_, APPLICATION_EXT_FUNC_CODE));
    check(EGifPutExtensionBlock(gif_, sizeof kApplication, kApplication));
    check(EGifPutExtensionBlock(gif_, sizeof kLoop, kLoop));
    check(EGifPutExtensionTrailer(gif_));
  }

  void put_rows(const GifByteType* pixels) {
    for (uint32_t y = 0; y < height_; ++y)
      check(EGifPutLine(gif_, const_cast<GifByteType*>(pixels + size_t{y} * width_), static_cast<int>(width_)));
  }

  int delay_cs_;
  GifFileType* gif_ = nullptr;
  uint32_t width_ = 0, height_ = 0, channels_ = 0;
  std::string out_;
};

}  // namespace

std::unique_ptr<AnimationEncoder> make_gif_encoder(uint32_t fps) {
  return std::make_unique<GifEncoder>(fps);
}

}  // namespace dicomd::jobs
