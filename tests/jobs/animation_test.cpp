// The animation encoders, decoded back by Debian's PIL (a decoder that is
// not ours): frame count, size, per-frame durations, loop, and each frame's
// grey level in order.
#include <gtest/gtest.h>
#include <lodepng.h>

#include <rapidjson/document.h>

#include "animation/encoder.h"
#include "dicom_files.h"
#include "server_process.h"
#include "temp_dir.h"

using namespace dicomd::jobs;
using dicomd::test::run_command;
using dicomd::test::shell_quote;

namespace {

// A frame as render-png would give it: a PNG of one grey level (or colour).
Frame frame_of(unsigned width, unsigned height, unsigned char level, bool colour = false) {
  Frame f;
  std::vector<unsigned char> pixels(size_t{width} * height * (colour ? 3 : 1), level);
  if (colour)
    for (size_t i = 0; i < pixels.size(); i += 3) pixels[i + 1] = static_cast<unsigned char>(255 - level);
  std::vector<unsigned char> png;
  lodepng::State state;  // 8-bit grey or RGB as render-png writes, not the smallest type lodepng would pick
  state.encoder.auto_convert = 0;
  state.info_raw.colortype = state.info_png.color.colortype = colour ? LCT_RGB : LCT_GREY;
  state.info_raw.bitdepth = state.info_png.color.bitdepth = 8;
  EXPECT_EQ(lodepng::encode(png, pixels, width, height, state), 0u);
  f.png.assign(png.begin(), png.end());
  inspect_png(f, true);
  return f;
}

rapidjson::Document decoded(const std::string& bytes) {
  dicomd::test::TempDir dir;
  auto path = dir / "animation";
  dicomd::test::write_file(path, bytes);
  int status = 0;
  std::string out = run_command(
      shell_quote(DICOMD_TEST_SOURCE_DIR "/tests/jobs/decode_animation.py") + " " + shell_quote(path.string()),
      &status);
  EXPECT_EQ(status, 0) << out;
  rapidjson::Document d;
  d.Parse(out.c_str());
  EXPECT_TRUE(d.IsObject()) << out;
  return d;
}

std::string encode(Format format, const std::vector<Frame>& frames, uint32_t fps) {
  auto encoder = make_encoder(format, static_cast<uint32_t>(frames.size()), fps);
  for (const auto& f : frames) encoder->add(f);
  return encoder->finish();
}

struct Case {
  Format format;
  const char* pil_format;
  int tolerance;         // grey levels: WebP is lossy
  int colour_tolerance;  // GIF's palettes are cut from 15-bit colours (giflib)
};

class Encoders : public testing::TestWithParam<Case> {};

TEST_P(Encoders, DecodeBackFrameByFrame) {
  std::vector<Frame> frames;
  for (int i = 0; i < 7; ++i) frames.push_back(frame_of(48, 32, static_cast<unsigned char>(20 + 30 * i)));
  auto d = decoded(encode(GetParam().format, frames, 10));
  EXPECT_STREQ(d["format"].GetString(), GetParam().pil_format);
  EXPECT_EQ(d["frames"].GetInt(), 7);
  EXPECT_EQ(d["size"][0].GetInt(), 48);
  EXPECT_EQ(d["size"][1].GetInt(), 32);
  EXPECT_EQ(d["loop"].GetInt(), 0) << "loops for ever";
  for (int i = 0; i < 7; ++i) {
    EXPECT_NEAR(d["means"][i].GetDouble(), 20 + 30 * i, GetParam().tolerance) << "frame " << i;
    if (d["durations"][i].IsNumber()) {
      EXPECT_NEAR(d["durations"][i].GetDouble(), 100, 1) << "frame " << i;
    }
  }
}

TEST_P(Encoders, ColourFramesKeepTheirColours) {
  std::vector<Frame> frames{frame_of(16, 16, 200, true), frame_of(16, 16, 40, true)};
  auto d = decoded(encode(GetParam().format, frames, 5));
  EXPECT_EQ(d["frames"].GetInt(), 2);
  // Grey of (level, 255 - level, level): 0.299 L + 0.587 (255 - L) + 0.114 L.
  for (int i = 0; i < 2; ++i) {
    double level = i == 0 ? 200 : 40;
    EXPECT_NEAR(d["means"][i].GetDouble(), 0.413 * level + 0.587 * (255 - level), 2 + GetParam().colour_tolerance);
  }
}

TEST_P(Encoders, FramesOfAnotherSizeAreRefused) {
  auto encoder = make_encoder(GetParam().format, 2, 10);
  encoder->add(frame_of(16, 16, 10));
  EXPECT_THROW(encoder->add(frame_of(16, 17, 10)), std::runtime_error);
}

INSTANTIATE_TEST_SUITE_P(Formats, Encoders,
                         testing::Values(Case{Format::kApng, "PNG", 0, 0}, Case{Format::kGif, "GIF", 0, 8},
                                         Case{Format::kWebp, "WEBP", 3, 3}),
                         [](const auto& info) { return std::string(name_of(info.param.format)); });

TEST(Encoders, GifDelaysAreHundredthsAndWebpMilliseconds) {
  std::vector<Frame> frames{frame_of(8, 8, 0), frame_of(8, 8, 100), frame_of(8, 8, 200)};
  auto gif = decoded(encode(Format::kGif, frames, 30));  // 33.3 ms: 3/100 s
  EXPECT_EQ(gif["durations"][1].GetInt(), 30);
  auto apng = decoded(encode(Format::kApng, frames, 30));
  EXPECT_NEAR(apng["durations"][1].GetDouble(), 33.33, 0.1);
}

TEST(Encoders, ApngAnnouncesItsFrameCount) {
  auto encoder = make_apng_encoder(3, 10);
  encoder->add(frame_of(8, 8, 0));
  EXPECT_THROW(encoder->finish(), std::runtime_error) << "fewer frames than its acTL says";
}

}  // namespace
