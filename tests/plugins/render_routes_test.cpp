// GET /files/:study/:file/png: options, caching and errors, on the in-process host.
#include <gtest/gtest.h>

#include "core_server.h"
#include "test_host.h"
#include "png_compare.h"

using namespace dicomd::test;

namespace {

class Render : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = std::make_unique<CoreHost>();
    std::vector<std::filesystem::path> files;
    for (const char* name :
         {"CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "rtdose.dcm", "SC_rgb_rle.dcm", "rtplan.dcm"})
      files.push_back(pydicom_data_dir() / "test_files" / name);
    ASSERT_EQ(server_->upload_paths("r", files).status, 201);
  }
  static void TearDownTestSuite() { server_.reset(); }
  static TestHost::Reply get(const std::string& target, const std::map<std::string, std::string>& headers = {}) {
    return server_->get(target, headers);
  }
  static std::unique_ptr<CoreHost> server_;
};
std::unique_ptr<CoreHost> Render::server_;

}  // namespace

TEST_F(Render, GreyImageIs8BitGreyPng) {
  auto r = get("/files/r/CT_small.dcm/png");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "image/png");
  auto png = decode_png(r.body);
  EXPECT_EQ(png.width, 128u);
  EXPECT_EQ(png.height, 128u);
  EXPECT_EQ(png.channels, 1u);
  EXPECT_EQ(png.bitdepth, 8u);
}

TEST_F(Render, ColourImageIs8BitRgbPng) {
  auto png = decode_png(get("/files/r/SC_rgb_rle.dcm/png").body);
  EXPECT_EQ(png.channels, 3u);
  EXPECT_EQ(png.bitdepth, 8u);
}

TEST_F(Render, ThumbnailsKeepTheAspectRatio) {
  auto tall = decode_png(get("/files/r/JPEG2000.dcm/png?size=128").body);  // 256 x 1024
  EXPECT_EQ(tall.width, 32u);
  EXPECT_EQ(tall.height, 128u);
  auto small = decode_png(get("/files/r/CT_small.dcm/png?size=1000").body);  // never enlarged
  EXPECT_EQ(small.width, 128u);
  auto half = decode_png(get("/files/r/CT_small.dcm/png?size=64").body);
  EXPECT_EQ(half.width, 64u);
  EXPECT_EQ(half.height, 64u);
}

TEST_F(Render, FramesAreSelectableAndOutOfRangeIs400) {
  auto f0 = get("/files/r/rtdose.dcm/png?frame=0"), f14 = get("/files/r/rtdose.dcm/png?frame=14");
  EXPECT_EQ(f0.status, 200);
  EXPECT_EQ(f14.status, 200);
  EXPECT_NE(f0.body, f14.body);
  auto out = get("/files/r/rtdose.dcm/png?frame=15");
  EXPECT_EQ(out.status, 400);
  EXPECT_EQ(out.body, R"({"error":"frame 15 is out of range: the file has 15 frames","success":false})");
  EXPECT_EQ(get("/files/r/CT_small.dcm/png?frame=1").status, 400);
}

TEST_F(Render, WindowOverridesTheFile) {
  auto file = get("/files/r/MR_small.dcm/png"), narrow = get("/files/r/MR_small.dcm/png?window=600,100");
  auto sigmoid = get("/files/r/MR_small.dcm/png?window=600,100,sigmoid");
  ASSERT_EQ(narrow.status, 200);
  EXPECT_NE(file.body, narrow.body);
  EXPECT_NE(narrow.body, sigmoid.body);
  EXPECT_LT(psnr(decode_png(file.body), decode_png(narrow.body)), 30.0);
}

TEST_F(Render, Bits16GivesModalityValues) {
  auto png = decode_png(get("/files/r/MR_small.dcm/png?bits=16").body);
  EXPECT_EQ(png.bitdepth, 16u);
  EXPECT_EQ(png.channels, 1u);
  EXPECT_EQ(get("/files/r/SC_rgb_rle.dcm/png?bits=16").status, 400);
}

TEST_F(Render, EtagAndIfNoneMatch) {
  auto r = get("/files/r/CT_small.dcm/png?size=64");
  std::string etag = r.header("etag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(r.header("cache-control"), "no-cache");
  EXPECT_NE(get("/files/r/CT_small.dcm/png?size=32").header("etag"), etag);  // options are part of it
  auto again = get("/files/r/CT_small.dcm/png?size=64", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(get("/files/r/CT_small.dcm/png?size=64", {{"If-None-Match", "\"other\""}}).status, 200);
}

TEST_F(Render, BadOptionsAre400) {
  for (const char* q : {"frame=-1", "frame=x", "size=0", "size=99999", "bits=12", "window=1", "window=a,b",
                        "window=10,0", "window=10,20,CUBIC", "window=1,2,3,4"}) {
    auto r = get(std::string("/files/r/CT_small.dcm/png?") + q);
    EXPECT_EQ(r.status, 400) << q;
    EXPECT_NE(r.body.find(R"("success":false)"), std::string::npos) << q;
  }
}

TEST_F(Render, NoPixelDataIs422AndUnknownFileIs404) {
  auto r = get("/files/r/rtplan.dcm/png");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.body, R"({"error":"the file has no pixel data","success":false})");
  auto missing = get("/files/r/nope.dcm/png");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"({"error":"file not found","success":false})");
}

// Native and RLE pixel data are decoded without GDCM's ImageReader, which
// aborted on these (a Frame Increment Pointer without Number of Frames):
// a missing Number of Frames is one frame.
TEST_F(Render, FilesWithoutNumberOfFramesHaveOneFrame) {
  for (std::string name : {"rtdose_1frame.dcm", "rtdose_expb_1frame.dcm", "rtdose_rle_1frame.dcm"}) {
    auto up = server_->upload("one", {{"files", name, read_file(pydicom_data_dir() / "test_files" / name)}});
    ASSERT_EQ(up.status, 201) << up.body;
    auto r = get("/files/one/" + name + "/png");
    EXPECT_EQ(r.status, 200) << name << ": " << r.body;
    EXPECT_EQ(decode_png(r.body).width, 10u) << name;
    auto second = get("/files/one/" + name + "/png?frame=1");
    EXPECT_EQ(second.status, 400) << name;
    EXPECT_EQ(second.body, R"({"error":"frame 1 is out of range: the file has 1 frame","success":false})");
  }
}

// Pixel data without image attributes: DCMTK's dcmj2pnm refuses it too.
TEST_F(Render, PixelDataWithoutRowsOrColumnsIs422) {
  std::string name = "nested_priv_SQ.dcm";
  ASSERT_EQ(server_->upload("attrs", {{"files", name, read_file(pydicom_data_dir() / "test_files" / name)}}).status,
            201);
  auto r = get("/files/attrs/" + name + "/png");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.body, R"({"error":"the image has no rows or columns","success":false})");
}

// An encapsulated image declaring 65535 x 65535 pixels was stored, then /png
// answered 500 (the decode buffer could not be allocated). The size is
// checked before anything is allocated: 422 with the reason.
TEST_F(Render, AnImageTooLargeToRenderIs422) {
  TempDir dir;
  auto ct = pydicom_data_dir() / "test_files" / "CT_small.dcm";
  for (std::string encode : {"dcmcrle", "gdcmconv --j2k"}) {
    auto out = dir / "huge.dcm";
    int status = 0;
    run_command(encode + " '" + ct.string() + "' '" + out.string() +
                    "' && dcmodify -nb -m '(0028,0010)=65535' -m "
                    "'(0028,0011)=65535' '" +
                    out.string() + "' 2>&1",
                &status);
    ASSERT_EQ(status, 0) << encode;
    std::string name = encode.substr(0, encode.find(' ')) + "-huge.dcm";
    ASSERT_EQ(server_->upload("huge", {{"files", name, read_file(out)}}).status, 201);
    auto r = get("/files/huge/" + name + "/png");
    EXPECT_EQ(r.status, 422) << encode;
    EXPECT_EQ(
        r.body,
        R"x({"error":"the image is too large to render: 65535 x 65535 pixels (at most 134217728)","success":false})x");
  }
}
