// Installs dicomd and its SDK to a prefix, builds sdk/examples/hello against
// the installed SDK with a separate CMake project, and serves it.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "dicom_files.h"
#include "http_client.h"
#include "server_process.h"

using namespace dicomd::test;

namespace {

int run(const std::string& command) {
  int rc = std::system((command + " > /dev/null 2>&1").c_str());
  if (rc != 0) std::system(command.c_str());  // show the output of a failure
  return rc;
}

}  // namespace

// Every plugin of the build exports its entry point and nothing else
// (cmake/dicomd-plugin.map), so no symbol of one plugin can clash with another's.
TEST(SdkOutOfTree, PluginsExportOnlyTheirEntryPoint) {
  for (const auto& dir : {core_plugin_dir(), test_plugin_dir()})
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      std::string name = entry.path().filename().string();
      if (name == "no-entry.so") continue;  // the loader test's plugin without one
      EXPECT_EQ(run_command("nm -D --defined-only '" + entry.path().string() + "' | awk '{print $3}'"),
                "dicomd_plugin_entry\n")
          << name;
    }
}

TEST(SdkOutOfTree, ExamplePluginBuildsAgainstTheInstalledSdkAndServes) {
  TempDir dir;
  std::string prefix = (dir / "prefix").string();
  ASSERT_EQ(run("cmake --install '" + binary_dir() + "' --prefix '" + prefix + "'"), 0);
  ASSERT_EQ(run("cmake -S '" + source_dir() + "/sdk/examples/hello' -B '" + (dir / "build").string() +
                "' -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH='" + prefix + "'"),
            0);
  ASSERT_EQ(run("cmake --build '" + (dir / "build").string() + "'"), 0);
  ASSERT_EQ(run("cmake --install '" + (dir / "build").string() + "' --prefix '" + prefix + "'"), 0);

  // The installed binary finds its plugins under the prefix with no flags.
  write_file(
      dir / "config.json",
      R"({"listen":"127.0.0.1:0","plugins":[{"name":"storage-fs"},{"name":"files"},{"name":"validator-gdcm"},)"
      R"({"name":"metadata-gdcm"},{"name":"render-png"},{"name":"hello","config":{"greeting":"hi","key":"k1"}}]})");
  std::string installed = prefix + "/bin/dicomd";
  // ServerProcess runs the build tree's binary; the installed one runs here.
  pid_t pid = ::fork();
  std::string log = (dir / "server.log").string();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 2);
    ::execl(installed.c_str(), installed.c_str(), "--config", (dir / "config.json").c_str(), "--data",
            (dir / "data").c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  uint16_t port = 0;
  for (int i = 0; i < 1500 && port == 0; ++i) {
    port = listening_port(read_file(log)).value_or(0);
    ::usleep(20000);
  }
  ASSERT_NE(port, 0) << read_file(log);
  // The example's request filter guards its routes with a key and attaches an identity.
  EXPECT_EQ(request(port, "GET", "/hello").status, 401);
  const std::map<std::string, std::string> key = {{"X-Hello-Key", "k1"}};
  auto hello = request(port, "GET", "/hello", "", key);
  EXPECT_EQ(hello.status, 200);
  EXPECT_EQ(hello.body, R"({"message":"hi from an out-of-tree plugin","subject":"hello-client","success":true})");
  auto named = request(port, "GET", "/hello/Ren%C3%A9", "", key);
  EXPECT_EQ(named.body, R"({"message":"hi, René","success":true})");
  EXPECT_EQ(request(port, "GET", "/files").status, 200);  // other plugins' routes are not its business
  auto plugins = request(port, "GET", "/plugins");
  EXPECT_NE(plugins.body.find(R"("name":"hello","version":"1.1.0")"), std::string::npos) << plugins.body;
  EXPECT_NE(read_file(log).find(R"(greeting "hi")"), std::string::npos);

  // Its event subscriber counts what the installed storage-fs stores.
  auto [type, body] = multipart_body(
      {{"study", "s"}}, {{"files", "ct.dcm", read_file(pydicom_data_dir() / "test_files" / "CT_small.dcm")}});
  ASSERT_EQ(request(port, "POST", "/upload", body, {{"Content-Type", type}}).status, 201);
  std::string stats;
  for (int i = 0; i < 500 && stats.find(R"("stored":1)") == std::string::npos; ++i, ::usleep(20000))
    stats = request(port, "GET", "/hello-stats", "", key).body;
  EXPECT_EQ(stats, R"({"stored":1,"success":true})");

  // Built with dicomd_add_plugin from the installed package: only the entry point is exported.
  EXPECT_EQ(run_command("nm -D --defined-only '" + prefix + "/lib/dicomd/plugins/hello.so' | awk '{print $3}'"),
            "dicomd_plugin_entry\n");
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
