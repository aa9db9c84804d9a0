// Start-up failures an operator can meet: each is one line on stderr naming
// the plugin and the reason, and a non-zero exit.
#include <gtest/gtest.h>

#include <unistd.h>

#include "http_client.h"
#include "server_process.h"

using namespace dicomd::test;

namespace {

std::string config(const std::string& plugin_dir, const std::string& plugins_json) {
  return R"({"listen":"127.0.0.1:0","plugin_dir":")" + plugin_dir + R"(","plugins":)" + plugins_json + "}";
}

struct Failure {
  int exit_code;
  std::string output;
};

Failure start_with(const std::string& config_json, std::vector<std::string> extra = {}) {
  TempDir dir;
  write_file(dir / "config.json", config_json);
  std::vector<std::string> args = {"--config", (dir / "config.json").string(), "--data", (dir / "data").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = run_dicomd(args);
  return {r.exit_code, r.output};
}

// The one "dicomd: error:" line.
std::string error_line(const std::string& output) {
  size_t pos = output.find("dicomd: error: ");
  if (pos == std::string::npos) return "";
  return output.substr(pos, output.find('\n', pos) - pos);
}

void expect_failure(const Failure& f, const std::string& plugin, const std::string& reason) {
  EXPECT_NE(f.exit_code, 0) << f.output;
  std::string line = error_line(f.output);
  EXPECT_NE(line.find("plugin '" + plugin + "'"), std::string::npos) << f.output;
  EXPECT_NE(line.find(reason), std::string::npos) << f.output;
}

}  // namespace

TEST(Loader, MissingPluginFile) {
  auto f = start_with(config(test_plugin_dir(), R"([{"name":"ghost"}])"));
  expect_failure(f, "ghost", "plugin file not found");
}

TEST(Loader, NotADicomdPlugin) {
  auto f = start_with(config(test_plugin_dir(), R"([{"name":"no-entry"}])"));
  expect_failure(f, "no-entry", "not a dicomd plugin");
}

TEST(Loader, AbiMajorMismatch) {
  auto f = start_with(config(test_plugin_dir(), R"([{"name":"wrong-abi-major"}])"));
  expect_failure(f, "wrong-abi-major", "this host supports ABI 1.x");
}

TEST(Loader, AbiMinorTooNew) {
  auto f = start_with(config(test_plugin_dir(), R"([{"name":"abi-too-new"}])"));
  expect_failure(f, "abi-too-new", "newer than this host");
}

TEST(Loader, NameMismatch) {
  auto f = start_with(config(test_plugin_dir(), R"([{"name":"wrong-name"}])"));
  expect_failure(f, "wrong-name", "somebody-else");
}

TEST(Loader, InitFailure) {
  auto f = start_with(config(test_plugin_dir(), R"([{"name":"init-fails"}])"));
  expect_failure(f, "init-fails", "init failed");
  EXPECT_NE(f.output.find("cannot open its database"), std::string::npos) << f.output;  // the plugin's own log
}

TEST(Loader, DuplicateRoute) {
  auto f = start_with(config(test_plugin_dir(), R"([{"name":"route-a"},{"name":"route-b"}])"));
  expect_failure(f, "route-b", "GET /clash/:id conflicts with plugin 'route-a'");
}

TEST(Loader, TwoProvidersWithoutBind) {
  auto f = start_with(config(test_plugin_dir(), R"([{"name":"provider-a"},{"name":"provider-b"}])"));
  expect_failure(f, "provider-a", "both provide test.thing v1");
}

TEST(Loader, TwoProvidersWithBindStart) {
  TempDir dir;
  write_file(dir / "config.json",
             R"({"listen":"127.0.0.1:0","plugin_dir":")" + test_plugin_dir() +
                 R"(","bind":{"test.thing":"provider-b"},"plugins":[{"name":"provider-a"},{"name":"provider-b"}]})");
  ServerProcess server({"--config", (dir / "config.json").string(), "--data", (dir / "data").string()});
  EXPECT_EQ(request(server.port(), "GET", "/health").status, 200);
}

TEST(Loader, PluginBuiltForAbi10LoadsAndServes) {
  TempDir dir;
  write_file(dir / "config.json", config(test_plugin_dir(), R"([{"name":"abi-1-0"}])"));
  ServerProcess server({"--config", (dir / "config.json").string(), "--data", (dir / "data").string()});
  auto r = request(server.port(), "GET", "/old/hello");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"success":true})");
}

TEST(Loader, RequiredServiceMissing) {
  // The real core plugins: render-png and metadata-gdcm need storage.
  TempDir dir;
  auto r = run_dicomd({"--plugin-dir", core_plugin_dir(), "--data", (dir / "d").string(), "--listen", "127.0.0.1:0",
                       "--disable", "storage-fs"});
  EXPECT_NE(r.exit_code, 0);
  std::string line = error_line(r.output);
  EXPECT_NE(line.find("requires service dicomd.storage v1, which no enabled plugin provides"), std::string::npos)
      << r.output;
}

TEST(Loader, MetadataPluginRefusesABadCacheSize) {
  for (const char* bad : {R"({"header_cache_mb":-1})", R"({"header_cache_mb":"64"})", R"({"header_cache":64})"}) {
    auto f = start_with(config(
        core_plugin_dir(), std::string(R"([{"name":"storage-fs"},{"name":"metadata-gdcm","config":)") + bad + "}]"));
    expect_failure(f, "metadata-gdcm", "init failed");
    EXPECT_NE(f.output.find("unknown or malformed key"), std::string::npos) << f.output;
  }
}

TEST(Loader, UnknownConfigKeyAndBadJson) {
  auto f = start_with(R"({"listen":"127.0.0.1:0","plugns":[]})");
  EXPECT_NE(f.exit_code, 0);
  EXPECT_NE(error_line(f.output).find("unknown key \"plugns\""), std::string::npos) << f.output;
  f = start_with("{not json");
  EXPECT_NE(f.exit_code, 0);
  EXPECT_NE(error_line(f.output).find("invalid JSON"), std::string::npos) << f.output;
}

TEST(Loader, HelpAndVersion) {
  auto help = run_dicomd({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("--disable NAME"), std::string::npos);
  auto version = run_dicomd({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.output.find("plugin ABI 1.1"), std::string::npos);
  auto bad = run_dicomd({"--bogus"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("unknown option --bogus"), std::string::npos);
}

// The operator's way past the refusal below. The server binds 0.0.0.0 inside
// a network namespace of its own (unshare -n), where nothing but a loopback
// device exists: no address outside this test is ever listened on.
TEST(Loader, AllowRemoteRootLiftsTheRefusal) {
  TempDir dir;
  ServerProcess server({"--listen", "0.0.0.0:0", "--allow-remote-root", "--data", (dir / "d").string(),
                        "--plugin-dir", core_plugin_dir()},
                       {"unshare", "-n"});
  EXPECT_TRUE(server.running());
  EXPECT_NE(server.log().find("listening on http://0.0.0.0:"), std::string::npos) << server.log();
}

TEST(Loader, RefusesRootOnANonLoopbackAddress) {
  if (::geteuid() != 0) GTEST_SKIP() << "not running as root";
  TempDir dir;
  auto r = run_dicomd({"--listen", "0.0.0.0:0", "--data", (dir / "d").string(), "--plugin-dir", core_plugin_dir()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(error_line(r.output).find("refusing to run as root on 0.0.0.0"), std::string::npos) << r.output;
}
