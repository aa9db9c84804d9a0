// Every renderable pydicom file, and variants DCMTK makes of real images in
// every transfer syntax it writes: dicomd's PNG against DCMTK's dcmj2pnm
// rendering of the same frame (an independent implementation).
#include <gtest/gtest.h>

#include <map>

#include "core_server.h"
#include "png_compare.h"

using namespace dicomd::test;

namespace {

constexpr double kMinPsnr = 30.0;

struct Case {
  std::filesystem::path file;       // what dicomd stores and renders
  std::filesystem::path reference;  // what dcmj2pnm renders (the lossless source for JPEG 2000)
};

std::string q(const std::filesystem::path& p) {
  return shell_quote(p.string());
}

bool has_tag(const std::filesystem::path& file, const char* tag) {
  std::string out = run_command("dcmdump -q +P " + std::string(tag) + " " + q(file) + " 2>/dev/null");
  return out.find('(') != std::string::npos && out.find("no value available") == std::string::npos;
}

// dcmj2pnm's rendering of one frame: +Wi 1 with a window in the file, the
// VOI LUT with one, min-max otherwise (colour images are not windowed).
std::string dcmtk_png(const std::filesystem::path& file, const std::filesystem::path& out, int frame) {
  std::string voi = has_tag(file, "WindowCenter") ? "+Wi 1" : has_tag(file, "VOILUTSequence") ? "+Wl 1" : "+Wm";
  int status = 0;
  run_command(
      "dcmj2pnm -q +on " + voi + " +F " + std::to_string(frame + 1) + " " + q(file) + " " + q(out) + " 2>/dev/null",
      &status);
  return status == 0 ? read_file(out) : "";
}

class RenderCompare : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = std::make_unique<CoreServer>();
    dir_ = std::make_unique<TempDir>();
  }
  static void TearDownTestSuite() {
    server_.reset();
    dir_.reset();
  }

  // Uploads `c.file`, renders frame `frame`, compares; returns the PSNR (-1:
  // dicomd did not render it, -2: DCMTK did not).
  static double compare(const Case& c, const std::string& name, int frame, std::string* status_text = nullptr) {
    std::string study = "cmp";
    auto up = server_->upload(study, {{"files", name, read_file(c.file)}});
    if (up.status != 201 && up.body.find("duplicate") == std::string::npos) return -3;
    auto png = server_->get("/files/" + study + "/" + url_encode(name) + "/png?frame=" + std::to_string(frame));
    if (status_text) *status_text = std::to_string(png.status) + " " + (png.status == 200 ? "" : png.body);
    if (png.status != 200) return -1;
    std::string ref = dcmtk_png(c.reference, dir_->path() / (name + ".png"), frame);
    if (ref.empty()) return -2;
    auto ours = decode_png(png.body), theirs = decode_png(ref);
    EXPECT_TRUE(ours.error.empty()) << name << ": " << ours.error;
    EXPECT_EQ(ours.width, theirs.width) << name;
    EXPECT_EQ(ours.height, theirs.height) << name;
    return psnr(ours, theirs);
  }

  static std::unique_ptr<CoreServer> server_;
  static std::unique_ptr<TempDir> dir_;
};
std::unique_ptr<CoreServer> RenderCompare::server_;
std::unique_ptr<TempDir> RenderCompare::dir_;

}  // namespace

std::filesystem::path test_file(const std::string& name) {
  return pydicom_data_dir() / "test_files" / name;
}

// Files DCMTK cannot render as they are, and the file whose rendering they
// must equal: lossless JPEG 2000 and JPEG-LS (DCMTK 3.6.7's dcmj2pnm decodes
// neither) against their uncompressed source; 32-bit big-endian pixel data,
// which dcmj2pnm reads as 16-bit words, against its little-endian twin.
const std::map<std::string, std::string> kReferenceOf = {
    {"MR_small_jp2klossless.dcm", "MR_small.dcm"},
    {"MR_small_jpeg_ls_lossless.dcm", "MR_small.dcm"},
    {"rtdose_expb.dcm", "rtdose.dcm"},
    {"rtdose_expb_1frame.dcm", "rtdose_1frame.dcm"},
};

// Files without Number of Frames (a Frame Increment Pointer only), on which
// GDCM's ImageReader aborts: dicomd decodes native and RLE pixel data itself
// and must render them as DCMTK does. Unlike the sweep below, a file dicomd
// does not render fails here.
TEST_F(RenderCompare, FilesWithoutNumberOfFramesMatchDcmj2pnm) {
  for (std::string name : {"rtdose_1frame.dcm", "rtdose_expb_1frame.dcm", "rtdose_rle_1frame.dcm"}) {
    auto ref = kReferenceOf.count(name) ? test_file(kReferenceOf.at(name)) : test_file(name);
    std::string status;
    double p = compare({test_file(name), ref}, name, 0, &status);
    EXPECT_GE(p, kMinPsnr) << name << ": " << status;
  }
}

TEST_F(RenderCompare, EveryRenderablePydicomFileMatchesDcmj2pnm) {
  size_t compared = 0;
  for (const auto& path : pydicom_files()) {
    std::string name = path.filename().string(), status;
    auto ref = kReferenceOf.count(name) ? test_file(kReferenceOf.at(name)) : path;
    double p = compare({path, ref}, name, 0, &status);
    std::printf("%-45s %s psnr %.1f\n", name.c_str(), status.c_str(), p);
    if (p >= 0) {
      ++compared;
      EXPECT_GE(p, kMinPsnr) << name;
    }
  }
  EXPECT_GE(compared, 40u);
}

// Variants of real images made with DCMTK (and GDCM for JPEG 2000) in the
// test set-up: every transfer syntax DCMTK writes and the display cases.
TEST_F(RenderCompare, DcmtkMadeVariantsMatchDcmj2pnm) {
  auto dir = dir_->path() / "variants";
  std::filesystem::create_directories(dir);
  auto mr = test_file("MR_small.dcm"), ct = test_file("CT_small.dcm");
  auto at = [&](const std::string& n) { return dir / n; };
  struct Variant {
    std::string name, command;
    std::filesystem::path reference;  // empty: the variant itself
    int frame = 0;
  };
  auto copy_then = [&](const std::filesystem::path& src, const std::string& name, const std::string& edits) {
    return "cp " + q(src) + " " + q(at(name)) + " && dcmodify -nb " + edits + " " + q(at(name));
  };
  std::vector<Variant> variants = {
      {"mr_implicit.dcm", "dcmconv +ti " + q(mr) + " " + q(at("mr_implicit.dcm")), {}},
      {"mr_explicit.dcm", "dcmconv +te " + q(mr) + " " + q(at("mr_explicit.dcm")), {}},
      {"mr_big_endian.dcm", "dcmconv +tb " + q(mr) + " " + q(at("mr_big_endian.dcm")), {}},
      {"mr_deflated.dcm", "dcmconv +td " + q(mr) + " " + q(at("mr_deflated.dcm")), {}},
      {"ct_rle.dcm", "dcmcrle " + q(ct) + " " + q(at("ct_rle.dcm")), {}},
      {"mr_jpeg_baseline.dcm", "dcmcjpeg +eb " + q(mr) + " " + q(at("mr_jpeg_baseline.dcm")), {}},
      {"mr_jpeg_extended.dcm", "dcmcjpeg +ee " + q(mr) + " " + q(at("mr_jpeg_extended.dcm")), {}},
      {"ct_jpeg_lossless.dcm", "dcmcjpeg +e1 " + q(ct) + " " + q(at("ct_jpeg_lossless.dcm")), {}},
      {"mr_jpeg_lossless_sv.dcm", "dcmcjpeg +el " + q(mr) + " " + q(at("mr_jpeg_lossless_sv.dcm")), {}},
      {"ct_jpeg_ls.dcm", "dcmcjpls " + q(ct) + " " + q(at("ct_jpeg_ls.dcm")), ct},
      {"mr_j2k.dcm", "gdcmconv --j2k " + q(mr) + " " + q(at("mr_j2k.dcm")), mr},
      {"ct_j2k.dcm", "gdcmconv --j2k " + q(ct) + " " + q(at("ct_j2k.dcm")), ct},
      {"mr_monochrome1.dcm", copy_then(mr, "mr_monochrome1.dcm", "-m PhotometricInterpretation=MONOCHROME1"), {}},
      {"mr_no_window.dcm", copy_then(mr, "mr_no_window.dcm", "-e WindowCenter -e WindowWidth"), {}},
      {"mr_two_windows.dcm",
       copy_then(mr, "mr_two_windows.dcm", "-m 'WindowCenter=300\\900' -m 'WindowWidth=400\\1200'"),
       {}},
      {"ct_signed_rescale.dcm",
       copy_then(ct, "ct_signed_rescale.dcm",
                 "-m RescaleSlope=2 -m RescaleIntercept=-2048 -i WindowCenter=40 -i WindowWidth=400"),
       {}},
      {"mr_sigmoid.dcm", copy_then(mr, "mr_sigmoid.dcm", "-i VOILUTFunction=SIGMOID"), {}},
      {"mr_linear_exact.dcm", copy_then(mr, "mr_linear_exact.dcm", "-i VOILUTFunction=LINEAR_EXACT"), {}},
      {"rgb.dcm", "dcmdjpeg " + q(test_file("SC_rgb_jpeg_dcmtk.dcm")) + " " + q(at("rgb.dcm")), {}},
      {"rgb_planar.dcm", "dcmdjpeg +pl " + q(test_file("SC_rgb_jpeg_dcmtk.dcm")) + " " + q(at("rgb_planar.dcm")), {}},
      {"ybr_full.dcm", "dcmdjpeg +cn " + q(test_file("SC_rgb_jpeg_dcmtk.dcm")) + " " + q(at("ybr_full.dcm")), {}},
      {"rgb_rle.dcm", "dcmcrle " + q(at("rgb.dcm")) + " " + q(at("rgb_rle.dcm")), {}},
      {"rgb_jpeg_baseline.dcm", "dcmcjpeg +eb " + q(at("rgb.dcm")) + " " + q(at("rgb_jpeg_baseline.dcm")), {}},
      {"rgb_jpeg_ls.dcm", "dcmcjpls " + q(at("rgb.dcm")) + " " + q(at("rgb_jpeg_ls.dcm")), at("rgb.dcm")},
      {"rgb_j2k.dcm", "gdcmconv --j2k " + q(at("rgb.dcm")) + " " + q(at("rgb_j2k.dcm")), at("rgb.dcm")},
      {"palette.dcm", "dcmquant " + q(at("rgb.dcm")) + " " + q(at("palette.dcm")), {}},
      {"rtdose_frame5.dcm", "cp " + q(test_file("rtdose.dcm")) + " " + q(at("rtdose_frame5.dcm")), {}, 5},
      {"rgb_rle_frame1.dcm", "cp " + q(test_file("SC_rgb_rle_2frame.dcm")) + " " + q(at("rgb_rle_frame1.dcm")), {}, 1},
  };
  size_t compared = 0;
  for (const auto& v : variants) {
    int status = 0;
    run_command(v.command + " > /dev/null 2>&1", &status);
    ASSERT_EQ(status, 0) << v.command;
    std::string text;
    double p = compare({at(v.name), v.reference.empty() ? at(v.name) : v.reference}, v.name, v.frame, &text);
    std::printf("%-30s %s psnr %.1f\n", v.name.c_str(), text.c_str(), p);
    EXPECT_GE(p, kMinPsnr) << v.name << " " << text;
    compared += p >= kMinPsnr;
  }
  EXPECT_EQ(compared, variants.size());
}
