// Animated WebP with libwebp's WebPAnimEncoder: lossy frames (quality 80,
// method 2: a fraction of the default effort, no visible loss at viewing
// sizes), looping. Frame times are in milliseconds.
#include <webp/encode.h>
#include <webp/mux.h>

#include <stdexcept>

#include "encoder.h"

namespace dicomd::jobs {
namespace {

class WebpEncoder : public AnimationEncoder {
 public:
  explicit WebpEncoder(uint32_t fps) : fps_(fps) {
    if (!WebPConfigInit(&config_)) throw std::runtime_error("WebP: a library of another version");
    config_.quality = 80;
    config_.method = 2;
  }
  ~WebpEncoder() override {
    if (encoder_) WebPAnimEncoderDelete(encoder_);
  }

  void add(const Frame& frame) override {
    if (frame.pixels.size() != size_t{frame.width} * frame.height * frame.channels)
      throw std::runtime_error("a frame without its pixels");
    if (!encoder_) start(frame);
    if (frame.width != width_ || frame.height != height_ || frame.channels != channels_)
      throw std::runtime_error("the frames differ in size or colour type");
    WebPPicture picture;
    if (!WebPPictureInit(&picture)) throw std::runtime_error("WebP: a library of another version");
    picture.width = static_cast<int>(width_);
    picture.height = static_cast<int>(height_);
    picture.use_argb = 1;
    int imported = 0;
    if (channels_ == 3) {
      imported = WebPPictureImportRGB(&picture, frame.pixels.data(), static_cast<int>(width_ * 3));
    } else {
      rgb_.resize(frame.pixels.size() * 3);
      for (size_t i = 0; i < frame.pixels.size(); ++i)
        rgb_[i * 3] = rgb_[i * 3 + 1] = rgb_[i * 3 + 2] = frame.pixels[i];
      imported = WebPPictureImportRGB(&picture, rgb_.data(), static_cast<int>(width_ * 3));
    }
    bool added = imported && WebPAnimEncoderAdd(encoder_, &picture, timestamp(frames_), &config_);
    WebPPictureFree(&picture);
    if (!added) throw std::runtime_error(std::string("WebP: ") + WebPAnimEncoderGetError(encoder_));
    ++frames_;
  }

  std::string finish() override {
    if (!encoder_) throw std::runtime_error("no frames");
    WebPData data;
    WebPDataInit(&data);
    bool ok =
        WebPAnimEncoderAdd(encoder_, nullptr, timestamp(frames_), nullptr) && WebPAnimEncoderAssemble(encoder_, &data);
    if (!ok) throw std::runtime_error(std::string("WebP: ") + WebPAnimEncoderGetError(encoder_));
    std::string out(reinterpret_cast<const char*>(data.bytes), data.size);
    WebPDataClear(&data);
    return out;
  }

 private:
  int timestamp(uint32_t frame) const { return static_cast<int>(uint64_t{frame} * 1000 / fps_); }

  void start(const Frame& first) {
    width_ = first.width;
    height_ = first.height;
    channels_ = first.channels;
    WebPAnimEncoderOptions options;
    if (!WebPAnimEncoderOptionsInit(&options)) throw std::runtime_error("WebP: a library of another version");
    options.anim_params.loop_count = 0;  // for ever
    encoder_ = WebPAnimEncoderNew(static_cast<int>(width_), static_cast<int>(height_), &options);
    if (!encoder_) throw std::runtime_error("WebP: the encoder could not start");
  }

  uint32_t fps_;
  WebPConfig config_;
  WebPAnimEncoder* encoder_ = nullptr;
  uint32_t width_ = 0, height_ = 0, channels_ = 0, frames_ = 0;
  std::vector<uint8_t> rgb_;
};

}  // namespace

std::unique_ptr<AnimationEncoder> make_webp_encoder(uint32_t fps) {
  return std::make_unique<WebpEncoder>(fps);
}

}  // namespace dicomd::jobs
