// kill -9 in the middle of uploads, and a full disk: acknowledged files
// survive, nothing partial or misnamed is ever visible.
#include <dicomd/abi.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "core_server.h"

using namespace dicomd::test;
using namespace std::chrono_literals;

namespace {

// Distinct content per name, so that every stored file can be checked.
std::string content_for(const std::string& base, int i) {
  std::string out = base;
  std::string tag = "#";
  tag += std::to_string(i);
  tag += '#';
  out.replace(out.size() - tag.size(), tag.size(), tag);  // inside the pixel data
  return out;
}

}  // namespace

TEST(CrashSafety, KillNineDuringUploadsLosesNothingAcknowledged) {
  CoreServer server;
  std::string base = read_file(pydicom_data_dir() / "test_files" / "CT_small.dcm");
  std::mutex mutex;
  std::set<std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::atomic<int> next{0};
  auto client = [&] {
    while (!stop) {
      int i = next++;
      std::string name = "IM";
      name += std::to_string(i);
      try {
        auto r = server.upload("crash", {{"files", name, content_for(base, i)}});
        if (r.status == 201) {
          std::lock_guard lock(mutex);
          acknowledged.insert(name);
        }
      } catch (const std::exception&) {
        return;  // the server is gone
      }
    }
  };
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) clients.emplace_back(client);
  std::this_thread::sleep_for(1500ms);
  ::kill(server.process().pid(), SIGKILL);
  stop = true;
  for (auto& t : clients) t.join();
  ASSERT_GT(acknowledged.size(), 5u);

  // On disk: every acknowledged file, complete; every visible file complete.
  auto study = server.studies_dir() / "crash";
  for (const auto& name : acknowledged) {
    ASSERT_TRUE(std::filesystem::exists(study / name)) << name << " was acknowledged but is missing";
  }
  for (const auto& e : std::filesystem::directory_iterator(study)) {
    int i = std::stoi(e.path().filename().string().substr(2));
    EXPECT_EQ(read_file(e.path()), content_for(base, i)) << e.path().filename() << " is partial or wrong";
  }
  // The next start empties the temp folder and serves what is there.
  server.restart();
  EXPECT_TRUE(files_under(server.studies_dir() / ".tmp").empty());
  auto listing = parse_json(server.get("/files/crash").body);
  EXPECT_GE(listing["filesCount"].GetUint(), acknowledged.size());
}

TEST(CrashSafety, FullDiskGivesStorageErrorAndNothingHalfWritten) {
  // A private mount namespace with a 3 MiB tmpfs as the data folder.
  TempDir mountpoint;
  int probe = 0;
  run_command("unshare -m sh -c 'mount -t tmpfs -o size=1m tmpfs " + mountpoint.str() + "' 2>&1", &probe);
  if (probe != 0) GTEST_SKIP() << "cannot mount a tmpfs here (needs root); the RLIMIT_FSIZE test covers write failures";
  std::string data = mountpoint.str();
  std::vector<std::string> wrapper = {
      "unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=3m tmpfs \"$0\" && exec \"$@\"", data};
  TempDir config_dir;
  write_file(config_dir / "c.json", R"({"listen":"127.0.0.1:0","data":")" + data + R"("})");
  ServerProcess server({"--config", (config_dir / "c.json").string(), "--plugin-dir", core_plugin_dir()}, wrapper);
  std::string base = read_file(pydicom_data_dir() / "test_files" / "CT_small.dcm");  // ~40 KB
  std::set<std::string> stored;
  int storage_errors = 0;
  for (int i = 0; i < 120 && storage_errors < 3; ++i) {
    std::string name = "IM";
    name += std::to_string(i);
    auto [type, body] = multipart_body({{"study", "full"}}, {{"files", name, content_for(base, i)}});
    auto r = request(server.port(), "POST", "/upload", body, {{"Content-Type", type}});
    if (r.status == 201) stored.insert(name);
    if (r.body.find("storage_error") != std::string::npos) ++storage_errors;
  }
  EXPECT_GE(storage_errors, 1) << "the 3 MiB disk never filled";
  // Everything listed is complete; nothing half-written is visible.
  auto listing = parse_json(request(server.port(), "GET", "/files/full").body);
  ASSERT_TRUE(listing.IsObject());
  EXPECT_EQ(listing["filesCount"].GetUint(), stored.size());
  for (const auto& f : listing["files"].GetArray()) {
    std::string name = f.GetString();
    EXPECT_TRUE(stored.count(name)) << name;
    auto file = request(server.port(), "GET", "/files/full/" + name);
    EXPECT_EQ(file.body, content_for(base, std::stoi(name.substr(2)))) << name;
  }
  EXPECT_EQ(request(server.port(), "GET", "/health").status, 200);
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST(CrashSafety, WriteFailuresGiveStorageError) {
  // RLIMIT_FSIZE of 1 MiB: writing a larger file fails with EFBIG, as a
  // full disk would fail it, without needing root.
  CoreServer server({}, "", {"sh", "-c", "ulimit -f 1024 && exec \"$@\"", "sh"});
  std::string base = read_file(pydicom_data_dir() / "test_files" / "CT_small.dcm");
  auto small = server.upload("w", {{"files", "small", base}});
  EXPECT_EQ(small.status, 201) << small.body;
  // 1.5 MiB of valid DICOM: the CT with a large Encapsulated Document element.
  auto r = server.upload("w", {{"files", "big", padded_ct(1500000)}, {"files", "small2", base}});
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find(R"("name":"big","reason":"storage_error")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("stored":["small2"])"), std::string::npos) << r.body;
  EXPECT_FALSE(std::filesystem::exists(server.studies_dir() / "w" / "big"));
  EXPECT_TRUE(files_under(server.studies_dir() / ".tmp").empty());
  EXPECT_EQ(server.get("/health").status, 200);
}

// Workers were crash containers, not sandboxes (hardening round two, item
// 7): root, every capability, no limits on files, the host's network.
// Probed from inside a worker (testkit's "probe" job).
TEST(WorkerSandbox, AWorkerCanNeitherWriteFilesNorReachTheNetworkNorGainPrivileges) {
  TempDir dir;
  write_file(dir / "config.json",
             R"({"listen":"127.0.0.1:0","plugin_dir":")" + test_plugin_dir() + R"(","plugins":[{"name":"testkit"}]})");
  ServerProcess server({"--config", (dir / "config.json").string(), "--data", (dir / "data").string()});
  auto r = request(server.port(), "POST", "/test/isolate/probe", std::to_string(server.port()));
  auto outer = parse_json(r.body);
  ASSERT_TRUE(outer.IsObject()) << r.body;
  ASSERT_EQ(outer["status"].GetInt(), 0) << r.body;
  auto probe = parse_json(outer["output"].GetString());
  ASSERT_TRUE(probe.IsObject()) << r.body;
  EXPECT_EQ(probe["noNewPrivs"].GetInt(), 1);
  EXPECT_LE(probe["openFilesLimit"].GetInt(), 16);
#ifndef DICOMD_TEST_SANITIZED  // sanitizer reports go to stderr, which may be a file
  EXPECT_EQ(probe["fileSizeLimit"].GetInt(), 0);
  EXPECT_FALSE(probe["wroteFile"].GetBool());
  EXPECT_EQ(probe["seccomp"].GetInt(), 2);  // a filter is installed
  EXPECT_FALSE(probe["unixSocket"].GetBool());
  EXPECT_FALSE(probe["connected"].GetBool());
#endif
  if (::geteuid() == 0) {  // what only root could give away (CI runs as root)
    EXPECT_EQ(probe["uid"].GetInt(), 65534);
    EXPECT_FALSE(probe["connected"].GetBool());  // its own network namespace: the server is out of reach
  }
  EXPECT_EQ(request(server.port(), "POST", "/test/isolate/echo", "still works").status, 200);
}

#ifndef DICOMD_TEST_SANITIZED  // sanitizer builds run workers without the system-call filter
// A call outside the allow-list (fork) ends the worker with SIGSYS; the host
// says so, replaces the worker and keeps serving.
TEST(WorkerSandbox, ACallOutsideTheAllowListEndsTheWorkerAndTheHostCarriesOn) {
  TempDir dir;
  write_file(dir / "config.json",
             R"({"listen":"127.0.0.1:0","plugin_dir":")" + test_plugin_dir() + R"(","plugins":[{"name":"testkit"}]})");
  ServerProcess server({"--config", (dir / "config.json").string(), "--data", (dir / "data").string()});
  auto r = request(server.port(), "POST", "/test/isolate/fork", "");
  auto outer = parse_json(r.body);
  ASSERT_TRUE(outer.IsObject()) << r.body;
  EXPECT_EQ(outer["status"].GetInt(), DICOMD_E_WORKER_DIED) << r.body;
  auto echo = request(server.port(), "POST", "/test/isolate/echo", "still works");
  EXPECT_EQ(echo.status, 200);
  EXPECT_NE(echo.body.find("still works"), std::string::npos) << echo.body;
  std::string log = server.log();
  EXPECT_NE(log.find("Bad system call (a system call outside the sandbox's allow-list"), std::string::npos) << log;
}
#endif
