// Tag replies that amplify (hardening round two, item 3): a tag asked for
// 200 times made a 210 MB reply from a 1 MiB element, and the reply was
// built on the I/O thread, stalling every other client of it.
#include <gtest/gtest.h>

#include "core_server.h"
#include "test_host.h"

using namespace dicomd::test;

namespace {

// CT_small.dcm with a 1 MiB ImageComments (LT) element, made by dcmodify.
std::string file_with_large_element(const TempDir& dir) {
  write_file(dir / "big.txt", std::string(1 << 20, 'a'));
  auto out = dir / "big.dcm";
  std::filesystem::copy_file(pydicom_data_dir() / "test_files" / "CT_small.dcm", out);
  int status = 0;
  run_command("dcmodify -nb -if '(0020,4000)=" + (dir / "big.txt").string() + "' '" + out.string() + "' 2>&1", &status);
  EXPECT_EQ(status, 0);
  return read_file(out);
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class TagLimits : public ::testing::Test {
 protected:
  void SetUp() override {
    host_ = std::make_unique<TestHost>(dir_ / "data");
    host_->load("storage-fs").load("files").load("validator-gdcm").load("metadata-gdcm", R"({"max_reply_mb":1})");
    host_->start();
    ASSERT_EQ(host_->upload("s", {{"files", "big.dcm", file_with_large_element(dir_)}}).status, 201);
  }
  TempDir dir_;
  std::unique_ptr<TestHost> host_;
};

}  // namespace

TEST_F(TagLimits, ATagAskedForManyTimesIsAnsweredOnce) {
  std::string target = "/files/s/big.dcm/tag?";
  for (int i = 0; i < 100; ++i) target += "tag=ImageComments&tag=(0020,4000)&";
  auto r = host_->get(target);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(count(r.body, R"x("tag":"(0020,4000)")x"), 1u);
  EXPECT_LT(r.body.size(), (1u << 20) + 4096);  // one copy of the element, not 200
  EXPECT_FALSE(r.answered_inline);              // a 1 MiB reply is built on a request thread
}

TEST_F(TagLimits, AtMost512DistinctTagsPerRequest) {
  std::string target = "/files/s/big.dcm/tag?";
  for (int i = 0; i < 513; ++i) target += "tag=x" + std::to_string(i) + "&";
  auto r = host_->get(target);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"error":"at most 512 tags per request","success":false})");
}

TEST_F(TagLimits, AllTagsLargerThanTheReplyLimitAre422) {
  auto r = host_->get("/files/s/big.dcm/tags");  // max_reply_mb is 1 here
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(
      r.body,
      R"({"error":"the tags of this file take more than 1 MiB: ask for the ones needed with /tag","success":false})");
  EXPECT_EQ(host_->get("/files/s/big.dcm/tag?tag=Rows").status, 200);
}
