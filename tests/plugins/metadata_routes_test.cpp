// metadata-gdcm's routes on files whose pixel data makes them larger than
// the start it sends its workers (64 KiB): every tag is the same as a parse
// of the whole file gives, whether the header came from the start (a
// 512×512 image) or the start was not enough (the pixel data's tag behind
// a large element, or no pixel data at all) and the whole file was parsed.
#include <gtest/gtest.h>

#include <cstdint>

#include "core_server.h"
#include "metadata.h"
#include "test_host.h"

using namespace dicomd::test;

namespace {

// A 512×512 8-bit grey BMP, made into a Secondary Capture by DCMTK's img2dcm:
// 262,144 bytes of native pixel data behind a header of about 1 KiB.
std::string large_image(const TempDir& dir) {
  const int32_t side = 512;
  std::string bmp = "BM";
  auto u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) bmp += static_cast<char>(v >> (8 * i) & 0xff);
  };
  auto u16 = [&](uint16_t v) { bmp += static_cast<char>(v & 0xff), bmp += static_cast<char>(v >> 8); };
  const uint32_t pixels_at = 14 + 40 + 256 * 4;
  u32(pixels_at + side * side), u32(0), u32(pixels_at);
  u32(40), u32(side), u32(side), u16(1), u16(8), u32(0), u32(side * side), u32(2835), u32(2835), u32(256), u32(0);
  for (int i = 0; i < 256; ++i) u32(static_cast<uint32_t>(i * 0x010101));
  for (int32_t y = 0; y < side; ++y)
    for (int32_t x = 0; x < side; ++x) bmp += static_cast<char>((x ^ y) & 0xff);
  write_file(dir / "in.bmp", bmp);
  int status = 0;
  std::string log = run_command("img2dcm -i BMP " + shell_quote((dir / "in.bmp").string()) + " " +
                                    shell_quote((dir / "large.dcm").string()) + " 2>&1",
                                &status);
  EXPECT_EQ(status, 0) << log;
  return read_file(dir / "large.dcm");
}

}  // namespace

TEST(MetadataRoutes, LargeFilesAnswerEveryTagAsTheirWholeParse) {
  TempDir dir;
  std::vector<std::pair<std::string, std::string>> files = {
      {"large.dcm", large_image(dir)},
      {"behind.dcm", padded_ct(100000)},  // the pixel data's tag 100 KB in: the whole file decides
  };
  for (const char* name : {"J2K_pixelrep_mismatch.dcm", "SC_rgb_jpeg_dcmd.dcm", "waveform_ecg.dcm"})
    files.emplace_back(name, read_file(pydicom_data_dir() / "test_files" / name));

  TestHost host(dir / "data");
  host.load("storage-fs").load("files").load("validator-gdcm").load("metadata-gdcm");
  host.start();
  for (const auto& [name, bytes] : files) {
    SCOPED_TRACE(name);
    ASSERT_GT(bytes.size(), 64u << 10);
    ASSERT_EQ(host.upload("s", {{"files", name, bytes}}).status, 201);
    auto whole = dicomd::metadata::parse_header(bytes);
    ASSERT_TRUE(whole);
    auto r = host.get("/files/s/" + name + "/tags");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"file":")" + name + R"(","study":"s","success":true,"tags":)" + whole->all_json() + "}");
  }
}
