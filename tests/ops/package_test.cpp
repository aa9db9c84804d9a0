// The Debian package as an operator gets it: scripts/package builds it,
// lintian finds no error in it, its systemd unit verifies, and its
// contents, unpacked into a temporary root, start and answer /health.
// Release pass only (tests/CMakeLists.txt): a package is a Release build.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "core_server.h"

using namespace dicomd::test;

namespace {

std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

}  // namespace

TEST(Package, TheDebPassesLintianAndItsUnpackedServerAnswers) {
  for (const char* tool : {"lintian", "systemd-analyze", "dpkg-deb", "cpack"})
    ASSERT_FALSE(run_command(std::string("command -v ") + tool).empty()) << tool << " (scripts/install-deps test)";
  int status = -1;
  std::string built = run_command(shell_quote(source_dir() + "/scripts/package") + " 2>&1", &status);
  ASSERT_EQ(status, 0) << built;
  const std::string deb = last_line(built);
  ASSERT_TRUE(std::filesystem::exists(deb)) << built;

  // lintian: warnings are allowed (no manual page yet), errors are not.
  std::string lint = run_command("lintian --tag-display-limit 0 " + shell_quote(deb) + " 2>&1", &status);
  EXPECT_EQ(lint.find("\nE: "), std::string::npos) << lint;
  EXPECT_NE(lint.rfind("E: ", 0), 0u) << lint;

  std::string control = run_command("dpkg-deb -f " + shell_quote(deb) + " Depends");
  for (const char* library : {"adduser", "libgdcm", "libpistache", "libsqlite3", "libseccomp"})
    EXPECT_NE(control.find(library), std::string::npos) << control;
  std::string conffiles = run_command("dpkg-deb --ctrl-tarfile " + shell_quote(deb) + " | tar -xO ./conffiles");
  EXPECT_EQ(conffiles, "/etc/dicomd/dicomd.json\n");

  TempDir root;
  ASSERT_EQ(run_command("dpkg-deb -x " + shell_quote(deb) + " " + shell_quote(root.path().string()) + " 2>&1", &status),
            "");
  ASSERT_EQ(status, 0);
  for (const char* path :
       {"usr/bin/dicomd", "usr/lib/dicomd/plugins/storage-fs.so", "usr/lib/dicomd/plugins/files.so",
        "usr/lib/dicomd/plugins/storage-s3.so", "usr/include/dicomd/plugin.h", "etc/dicomd/dicomd.json",
        "lib/systemd/system/dicomd.service", "usr/share/doc/dicomd/copyright", "usr/share/doc/dicomd/changelog.gz"})
    EXPECT_TRUE(std::filesystem::exists(root.path() / path)) << path;

  // The unit, with its binary where this test unpacked it: systemd-analyze
  // prints nothing for a unit it fully understands.
  std::string unit = read_file(root.path() / "lib/systemd/system/dicomd.service");
  for (const char* directive : {"User=dicomd", "ProtectSystem=strict", "ReadWritePaths=/var/lib/dicomd",
                                "NoNewPrivileges=yes", "PrivateTmp=yes", "ExecStartPre=/usr/bin/dicomd --check-config"})
    EXPECT_NE(unit.find(directive), std::string::npos) << directive;
  std::string relocated = unit;
  const std::string unpacked = (root.path() / "usr/bin/dicomd").string();
  for (size_t at = 0; (at = relocated.find("/usr/bin/dicomd", at)) != std::string::npos; at += unpacked.size())
    relocated.replace(at, 15, unpacked);
  write_file(root.path() / "dicomd.service", relocated);
  std::string verify = run_command(
      "systemd-analyze verify " + shell_quote((root.path() / "dicomd.service").string()) + " 2>&1", &status);
  EXPECT_EQ(status, 0) << verify;
  EXPECT_EQ(verify, "");

  // The packaged binary finds its packaged plugins (../lib/dicomd/plugins)
  // and serves the packaged configuration.
  const std::string bin = (root.path() / "usr/bin/dicomd").string();
  const std::string config = (root.path() / "etc/dicomd/dicomd.json").string();
  std::string checked = run_command(shell_quote(bin) + " --check-config " + shell_quote(config) + " 2>&1", &status);
  EXPECT_EQ(status, 0) << checked;
  // The wrapper runs the packaged dicomd in place of the build's.
  ServerProcess server({"--config", config, "--data", (root.path() / "data").string()},
                       {"sh", "-c", "shift; exec \"$0\" \"$@\"", bin});
  HttpReply health = request(server.port(), "GET", "/health");
  EXPECT_EQ(health.status, 200) << health.body;
  EXPECT_NE(health.body.find("\"index-sqlite\""), std::string::npos) << health.body;
  EXPECT_EQ(request(server.port(), "GET", "/openapi.json").status, 200);
}

// `cmake --install --prefix P` of the build the tests run from lays out the
// whole tree under P, the configuration and the unit included: nothing is
// written outside it.
TEST(Package, AnInstallWithAnotherPrefixStaysUnderIt) {
  TempDir prefix;
  int status = -1;
  std::string out = run_command(
      "cmake --install " + shell_quote(binary_dir()) + " --prefix " + shell_quote(prefix.path().string()) + " 2>&1",
      &status);
  ASSERT_EQ(status, 0) << out;
  for (const char* path :
       {"bin/dicomd", "lib/dicomd/plugins/storage-fs.so", "lib/dicomd/plugins/files.so", "include/dicomd/plugin.h",
        "etc/dicomd/dicomd.json", "lib/systemd/system/dicomd.service", "share/doc/dicomd/copyright"})
    EXPECT_TRUE(std::filesystem::exists(prefix.path() / path)) << path;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("-- Installing: ", 0) == 0 || line.rfind("-- Up-to-date: ", 0) == 0) {
      EXPECT_EQ(line.find(prefix.path().string()), 15u) << line;
    }
  }
}
