// Real DICOMweb clients against the real dicomd, in Debian's Chromium driven
// by npm's playwright-core under `node --test` (tests/browser, installed by
// scripts/test): dicomweb-client in a page, and the OHIF viewer (its
// prebuilt dist/, fetched by scripts/fetch-ohif). Each page is served from
// an origin of its own, so every call is cross-origin. Nothing missing is a
// skip: the test fails and says what is missing.
#include <gtest/gtest.h>

#include <filesystem>

#include "core_server.h"
#include "dicom_files.h"

using namespace dicomd::test;

namespace {

const std::filesystem::path kBrowserDir = std::filesystem::path(source_dir()) / "tests" / "browser";

const std::string kConfig =
    R"({"listen":"127.0.0.1:0","plugins":[{"name":"storage-fs"},{"name":"files"},{"name":"validator-gdcm"},)"
    R"({"name":"metadata-gdcm"},{"name":"render-png"},{"name":"index-sqlite"},{"name":"search"},)"
    R"({"name":"dicomweb","config":{"cors":{"origins":"*"}}}]})";

void expect_tools() {
  ASSERT_TRUE(std::filesystem::exists(kBrowserDir / "node_modules" / "playwright-core"))
      << "run `npm ci` in tests/browser (scripts/test does)";
  ASSERT_TRUE(std::filesystem::exists(kBrowserDir / "node_modules" / "dicomweb-client"))
      << "run `npm ci` in tests/browser (scripts/test does)";
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium")) << "install Debian's chromium (scripts/install-deps test)";
}

// `node --test FILE` with `env`; passes when every test in it did.
void run_node_tests(const std::string& file, const std::string& env) {
  int status = 0;
  std::string output = run_command("cd " + shell_quote(kBrowserDir.string()) + " && " + env +
                                       " timeout 300 node --test --test-reporter=tap " + file + " 2>&1",
                                   &status);
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("# fail 0"), std::string::npos) << output;
  EXPECT_EQ(output.find("# pass 0"), std::string::npos) << output;
}

}  // namespace

TEST(DicomWebBrowser, DicomwebClientSearchesRetrievesAndStoresFromAPage) {
  expect_tools();
  CoreServer server({}, kConfig);
  ASSERT_EQ(server.upload_paths("s", {pydicom_data_dir() / "test_files" / "CT_small.dcm"}).status, 201);
  run_node_tests("dicomweb_client.test.mjs",
                 "DICOMD_PORT=" + std::to_string(server.port()) +
                     " STOW_FILE=" + shell_quote((pydicom_data_dir() / "test_files" / "MR_small.dcm").string()));
}

TEST(DicomWebBrowser, OhifListsTheStudiesAndDrawsTheCt) {
  expect_tools();
  int status = 0;
  std::string dist = run_command("cd " + shell_quote(source_dir()) + " && scripts/fetch-ohif 2>&1", &status);
  while (!dist.empty() && dist.back() == '\n') dist.pop_back();
  ASSERT_EQ(status, 0) << "scripts/fetch-ohif: " << dist;
  dist = (std::filesystem::path(source_dir()) / dist).string();
  ASSERT_TRUE(std::filesystem::exists(std::filesystem::path(dist) / "index.html")) << dist;

  CoreServer server({}, kConfig);
  ASSERT_EQ(server
                .upload_paths("s", {pydicom_data_dir() / "test_files" / "CT_small.dcm",
                                    pydicom_data_dir() / "test_files" / "MR_small.dcm"})
                .status,
            201);
  // Kept as test artifacts: the study list and the CT in the viewer.
  const std::filesystem::path shots = std::filesystem::path(DICOMD_TEST_BINARY_DIR) / "test-artifacts" / "ohif";
  run_node_tests("ohif_viewer.test.mjs", "DICOMD_PORT=" + std::to_string(server.port()) + " OHIF_DIST=" +
                                             shell_quote(dist) + " SCREENSHOT_DIR=" + shell_quote(shots.string()) +
                                             " STUDY_UID=1.3.6.1.4.1.5962.1.2.1.20040119072730.12322");
  EXPECT_TRUE(std::filesystem::exists(shots / "ohif-viewer-ct.png"));
}
