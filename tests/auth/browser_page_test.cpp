// The upload page with auth-jwt in a real browser: Debian's Chromium, driven
// by npm's playwright-core (tests/browser, installed by scripts/test with
// `npm ci`). Neither missing is a skip: the test fails and says what is
// missing.
#include <gtest/gtest.h>

#include <filesystem>

#include "core_server.h"
#include "jwt_signing.h"

using namespace dicomd::test;

TEST(BrowserPage, SignsInUploadsAndShowsTheAnswerInChromium) {
  const std::filesystem::path browser_dir = std::filesystem::path(source_dir()) / "tests" / "browser";
  ASSERT_TRUE(std::filesystem::exists(browser_dir / "node_modules" / "playwright-core"))
      << "run `npm ci` in tests/browser (scripts/test does)";
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium")) << "install Debian's chromium (scripts/install-deps test)";

  TempDir keys;
  const std::string secret = "browser-test-secret-0123456789abcdefghij";
  write_file(keys.path() / "secret", secret);
  std::filesystem::permissions(keys.path() / "secret", std::filesystem::perms::owner_read);
  CoreServer server(
      {}, R"({"listen":"127.0.0.1:0","plugins":[{"name":"auth-jwt","config":{"algorithm":"HS256",)"
          R"("key_file":")" +
              (keys.path() / "secret").string() +
              R"("}},{"name":"storage-fs"},{"name":"files"},{"name":"validator-gdcm"},{"name":"metadata-gdcm"}]})");
  std::string claims = R"({"sub":"browser-user","role":"standard","exp":)" + std::to_string(unix_now() + 600) + "}";
  std::string token = sign_hs256(unsigned_token(R"({"alg":"HS256","typ":"JWT"})", claims), secret);
  std::string dicom = (pydicom_data_dir() / "test_files" / "CT_small.dcm").string();

  int status = 0;
  std::string output =
      run_command("cd " + shell_quote(browser_dir.string()) + " && timeout 120 node upload_page_auth.mjs " +
                      std::to_string(server.port()) + " " + token + " " + shell_quote(dicom) + " 2>&1",
                  &status);
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("all steps held"), std::string::npos) << output;
}
