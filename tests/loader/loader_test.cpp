// Start-up failures an operator can meet: each is one line on stderr naming
// the plugin and the reason, and a non-zero exit.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <thread>

#include "dicom_files.h"
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

TEST(Loader, PluginBuiltForAbi11LoadsAndServesItsQuickRoute) {
  TempDir dir;
  write_file(dir / "config.json", config(test_plugin_dir(), R"([{"name":"abi-1-1"}])"));
  ServerProcess server({"--config", (dir / "config.json").string(), "--data", (dir / "data").string()});
  auto r = request(server.port(), "GET", "/v11/quick");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"mayBlock":0})");  // answered on the I/O thread
}

TEST(Loader, PluginBuiltForAbi12LoadsAndItsRoutesAcceptAnyBody) {
  TempDir dir;
  write_file(dir / "config.json", config(test_plugin_dir(), R"([{"name":"abi-1-2"}])"));
  ServerProcess server({"--config", (dir / "config.json").string(), "--data", (dir / "data").string()});
  auto r = request(server.port(), "POST", "/v12/any", "x", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"success":true})");
}

// c-plugin (tests/loader/plugins/c_plugin.c) uses the C ABI alone: routes,
// a quick route, a filter with an identity, the after-answer hook, events.
TEST(Loader, PluginWrittenInPlainCLoadsAndServes) {
  TempDir dir;
  // One plugin folder with the core plugins it needs and the test plugin.
  std::filesystem::create_directories(dir / "plugins");
  for (const char* core : {"storage-fs.so", "files.so", "validator-gdcm.so"})
    std::filesystem::create_symlink(std::filesystem::path(core_plugin_dir()) / core, dir / "plugins" / core);
  std::filesystem::create_symlink(std::filesystem::path(test_plugin_dir()) / "c-plugin.so",
                                  dir / "plugins" / "c-plugin.so");
  write_file(dir / "config.json",
             config((dir / "plugins").string(),
                    R"([{"name":"storage-fs"},{"name":"files"},{"name":"validator-gdcm"},{"name":"c-plugin"}])"));
  ServerProcess server({"--config", (dir / "config.json").string(), "--data", (dir / "data").string()});
  uint16_t port = server.port();

  auto hello = request(port, "GET", "/c/hello/bob");
  EXPECT_EQ(hello.status, 200);
  EXPECT_EQ(hello.body, R"({"hello":"bob","mayBlock":0})");
  EXPECT_EQ(request(port, "GET", "/c/hello/B%2Fb").status, 400);
  auto denied = request(port, "GET", "/c/secret");
  EXPECT_EQ(denied.status, 403);
  auto allowed = request(port, "GET", "/c/secret", "", {{"X-C-Key", "1"}});
  EXPECT_EQ(allowed.body, R"({"role":"read-only","subject":"c-user"})");

  auto [type, body] = multipart_body(
      {{"study", "s"}}, {{"files", "ct.dcm", read_file(pydicom_data_dir() / "test_files" / "CT_small.dcm")}});
  ASSERT_EQ(request(port, "POST", "/upload", body, {{"Content-Type", type}}).status, 201);
  // Events arrive off the request thread, and the after-answer hook runs
  // once a reply is handed to the socket: both may trail the replies a
  // little. Poll for up to 10 s (a loaded machine, a sanitizer build).
  unsigned long answered = 0, stored = 0;
  for (int i = 0; i < 500 && (stored < 1 || answered < 5); ++i) {
    if (i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::string stats = request(port, "GET", "/c/stats").body;
    ASSERT_EQ(std::sscanf(stats.c_str(), R"({"answered":%lu,"stored":%lu})", &answered, &stored), 2) << stats;
  }
  EXPECT_EQ(stored, 1u);
  EXPECT_GE(answered, 5u);  // the 5 requests before the first /c/stats
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
        core_plugin_dir(),
        std::string(R"([{"name":"storage-fs"},{"name":"files"},{"name":"metadata-gdcm","config":)") + bad + "}]"));
    expect_failure(f, "metadata-gdcm", "init failed");
    // The log names the key: 'config: "header_cache_mb" must be …' or 'config: unknown key "header_cache"'.
    EXPECT_NE(f.output.find("config: "), std::string::npos) << f.output;
    EXPECT_NE(f.output.find("\"header_cache"), std::string::npos) << f.output;
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
  EXPECT_NE(version.output.find("plugin ABI 1.9"), std::string::npos);
  auto bad = run_dicomd({"--bogus"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("unknown option --bogus"), std::string::npos);
}

// The operator's way past the refusal below. The server binds 0.0.0.0 inside
// a network namespace of its own (unshare -n), where nothing but a loopback
// device exists: no address outside this test is ever listened on.
TEST(Loader, AllowRemoteRootLiftsTheRefusal) {
  TempDir dir;
  ServerProcess server({"--listen", "0.0.0.0:0", "--allow-remote-root", "--data", (dir / "d").string(), "--plugin-dir",
                        core_plugin_dir()},
                       {"unshare", "-n"});
  EXPECT_TRUE(server.running());
  EXPECT_NE(server.log().find("listening on http://0.0.0.0:"), std::string::npos) << server.log();
}

// Two instances on one data folder were silently wrong (each one's header
// cache blind to the other's removals; a starting one emptying the shared
// .tmp under the other's uploads). The second is refused, naming the first.
TEST(Loader, ASecondInstanceOnOneDataFolderIsRefused) {
  TempDir dir;
  std::string data = (dir / "data").string();
  ServerProcess first({"--data", data, "--plugin-dir", core_plugin_dir()});
  auto second = run_dicomd({"--listen", "127.0.0.1:0", "--data", data, "--plugin-dir", core_plugin_dir()});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(error_line(second.output)
                .find("another dicomd (pid " + std::to_string(first.pid()) + ") is using the data folder"),
            std::string::npos)
      << second.output;
  EXPECT_TRUE(first.running());
}

TEST(Loader, RefusesRootOnANonLoopbackAddress) {
  if (::geteuid() != 0) GTEST_SKIP() << "not running as root";
  TempDir dir;
  auto r = run_dicomd({"--listen", "0.0.0.0:0", "--data", (dir / "d").string(), "--plugin-dir", core_plugin_dir()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(error_line(r.output).find("refusing to run as root on 0.0.0.0"), std::string::npos) << r.output;
}
