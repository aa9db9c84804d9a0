// GET /search on the real server (default plugins: index-sqlite and search):
// read-your-writes after uploads and deletes, names in every character set
// of pydicom's charset_files, refusals, and the faults the index must
// survive — a kill -9 during uploads, files stored while it was down, a
// corrupt database.
#include <dicomd/cpp/names.hpp>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "core_server.h"
#include "ct_instances.h"

using namespace dicomd::test;
using namespace std::chrono_literals;

TEST(SearchRoutes, AnUploadIsFoundAtOnceAndADeleteIsGoneAtOnce) {
  CoreServer server;
  for (int i = 0; i < 20; ++i) {
    std::string name = "IM" + std::to_string(i);
    ASSERT_EQ(server.upload("s", {{"files", name, ct_instance(i)}}).status, 201);
    auto found = server.get("/search?SOPInstanceUID=" + sop_of(i));
    ASSERT_EQ(found.status, 200) << found.body;
    EXPECT_EQ(total_of(found), 1) << found.body;
    EXPECT_NE(found.body.find("\"file\":\"" + name + "\""), std::string::npos) << found.body;
    if (i % 2) {
      ASSERT_EQ(server.del("/files/s/" + name).status, 200);
      EXPECT_EQ(total_of(server.get("/search?SOPInstanceUID=" + sop_of(i))), 0);
    }
  }
  EXPECT_EQ(total_of(server.get("/search?study=s")), 10);
  ASSERT_EQ(server.del("/files/s").status, 200);
  EXPECT_EQ(total_of(server.get("/search")), 0);
}

TEST(SearchRoutes, NamesOfEveryCharacterSetAreFoundFoldedAndPerComponent) {
  CoreServer server;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(pydicom_data_dir() / "charset_files"))
    if (e.path().extension() == ".dcm") files.push_back(e.path());
  ASSERT_EQ(server.upload_paths("cs", files).status, 201);
  struct Query {
    std::string name;                // a PatientName value, UTF-8
    std::set<std::string> expected;  // files
    bool fuzzy = false;
  };
  const std::vector<Query> queries = {
      {"buc^jerome", {"chrFren.dcm", "chrFrenMulti.dcm"}},
      {"BUC^JÉRÔME", {"chrFren.dcm", "chrFrenMulti.dcm"}},
      {"äneas^rüdiger", {"chrGerm.dcm"}},
      {"aneas", {"chrGerm.dcm"}},
      {"ΔΙΟΝΥΣΙΟΣ", {"chrGreek.dcm"}},
      {"yamada^tarou", {"chrH31.dcm"}},
      {"山田^太郎", {"chrH31.dcm", "chrH32.dcm"}},
      {"やまだ", {"chrH31.dcm", "chrH32.dcm", "chrJapMulti.dcm", "chrJapMultiExplicitIR6.dcm"}},
      {"hong^gildong", {"chrI2.dcm"}},
      {"홍^길동", {"chrI2.dcm"}},
      {"wang^xiaodong", {"chrX1.dcm", "chrX2.dcm"}},
      {"王", {"chrX1.dcm", "chrX2.dcm"}},
      {"люкceмбypг", {"chrRuss.dcm"}},
      {"שרון^דבורה", {"chrHbrw.dcm"}},
      {"*^xiao*", {"chrX1.dcm", "chrX2.dcm"}},
      {"tar", {"chrH31.dcm"}, true},
      {"gil hon", {"chrI2.dcm"}, true},
  };
  for (const auto& q : queries) {
    auto r = server.get("/search?limit=100&PatientName=" + url_encode(q.name) + (q.fuzzy ? "&fuzzymatching=true" : ""));
    ASSERT_EQ(r.status, 200) << q.name << ": " << r.body;
    auto d = parse_json(r.body);
    std::set<std::string> found;
    for (const auto& result : d["results"].GetArray()) found.insert(result["file"].GetString());
    EXPECT_EQ(found, q.expected) << q.name;
  }
}

TEST(SearchRoutes, WhatTheSearchDoesNotUnderstandIs400WithTheSupportedKeys) {
  CoreServer server;
  ASSERT_EQ(server.upload("s", {{"files", "IM1", ct_instance(1)}}).status, 201);
  const std::vector<std::string> refused = {
      "Bogus=1",
      "PatientID%27%3B%20DROP%20TABLE%20instances%3B--=1",  // SQL as a key
      "orderby=StudyDate%3B%20DROP%20TABLE%20instances",    // SQL as an order
      "orderby=*",
      "*=1",
      "PatientID=" + std::string(10000, 'x'),
      "PatientID=%FF%FE",  // not UTF-8
      "%FF%FEName=1",      // a key that is not UTF-8: quoted in the answer
      "PatientID=a%00b",   // a control character
      "StudyDate=2020-13-45",
      "StudyDate=20200231",
      "StudyInstanceUID=1.2.*",
      "limit=1000000000",
      "limit=-1",
      "limit=1001",
      "offset=x",
      "level=patient",
      "PatientID=1&PatientID=2",
      "fuzzymatching=maybe",
  };
  for (const auto& q : refused) {
    auto r = server.get("/search?" + q);
    EXPECT_EQ(r.status, 400) << q.substr(0, 80) << ": " << r.body.substr(0, 200);
    EXPECT_TRUE(dicomd::is_valid_utf8(r.body)) << q.substr(0, 80) << ": " << r.body.substr(0, 200);
    auto d = parse_json(r.body);
    ASSERT_TRUE(d.IsObject()) << r.body.substr(0, 200);
    EXPECT_FALSE(d["success"].GetBool());
    EXPECT_TRUE(d["error"].IsString());
    ASSERT_TRUE(d["supported"].IsArray());
    EXPECT_GE(d["supported"].Size(), 20u);
  }
  // The refusal quotes the key once, JSON-escaped once.
  auto quoted = parse_json(server.get("/search?a%22b=1").body);
  EXPECT_STREQ(quoted["error"].GetString(), "unknown search key \"a\"b\"");
  // Nothing was dropped or changed, and SQL in a value is only a value.
  EXPECT_EQ(total_of(server.get("/search")), 1);
  EXPECT_EQ(total_of(server.get("/search?PatientID=%27%20OR%20%271%27%3D%271")), 0);
  EXPECT_EQ(total_of(server.get("/search?PatientID=*")), 1);
  EXPECT_EQ(total_of(server.get("/search?PatientID=")), 1);
}

TEST(SearchRoutes, TheIndexCatchesUpWithTheStorageAtStart) {
  CoreServer server;
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(server.upload("s", {{"files", "IM" + std::to_string(i), ct_instance(i)}}).status, 201);
  ASSERT_EQ(server.process().stop(SIGTERM), 0);
  // While no server runs: a file copied in, a file removed by hand.
  std::filesystem::create_directories(server.studies_dir() / "copied");
  write_file(server.studies_dir() / "copied" / "IM7", ct_instance(7));
  std::filesystem::remove(server.studies_dir() / "s" / "IM0");
  server.restart();
  EXPECT_EQ(total_of(server.get("/search?SOPInstanceUID=" + sop_of(7))), 1);
  EXPECT_EQ(total_of(server.get("/search?SOPInstanceUID=" + sop_of(0))), 0);
  EXPECT_EQ(total_of(server.get("/search")), 3);
}

TEST(SearchRoutes, ACorruptIndexDatabaseIsRebuiltWithOneLogLine) {
  CoreServer server;
  for (int i = 0; i < 2; ++i)
    ASSERT_EQ(server.upload("s", {{"files", "IM" + std::to_string(i), ct_instance(i)}}).status, 201);
  ASSERT_EQ(server.process().stop(SIGTERM), 0);
  write_file(server.data_dir() / "index.sqlite3", std::string(8192, 'x'));
  std::filesystem::remove(server.data_dir() / "index.sqlite3-wal");
  server.restart();
  EXPECT_EQ(total_of(server.get("/search")), 2);
  std::string log = server.process().log();
  size_t first = log.find("the index database could not be used");
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find("the index database could not be used", first + 1), std::string::npos) << log;
  EXPECT_TRUE(std::filesystem::exists(server.data_dir() / "index.sqlite3.corrupt-1"));
}

// Eight clients upload distinct instances; the server is killed (-9) among
// them. After the restart every acknowledged file is found once, and the
// index holds exactly the files the storage holds: nothing missing, nothing
// twice.
TEST(SearchRoutes, KillNineDuringEightUploadersLeavesEveryAcknowledgedFileFoundOnce) {
  CoreServer server;
  std::mutex mutex;
  std::set<int> acknowledged;
  std::atomic<bool> stop{false};
  std::atomic<int> next{0};
  auto client = [&] {
    while (!stop) {
      int i = next++;
      try {
        auto r = server.upload("k", {{"files", "IM" + std::to_string(i), ct_instance(i)}});
        if (r.status == 201) {
          std::lock_guard lock(mutex);
          acknowledged.insert(i);
        }
      } catch (const std::exception&) {
        return;  // the server is gone
      }
    }
  };
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) clients.emplace_back(client);
  std::this_thread::sleep_for(2s);
  ::kill(server.process().pid(), SIGKILL);
  stop = true;
  for (auto& t : clients) t.join();
  ASSERT_GT(acknowledged.size(), 8u);
  std::printf("%zu uploads acknowledged before the kill\n", acknowledged.size());

  server.restart();
  for (int i : acknowledged) {
    auto r = server.get("/search?file=IM" + std::to_string(i));
    EXPECT_EQ(total_of(r), 1) << "IM" << i << ": " << r.body;
  }
  auto stored = parse_json(server.get("/files/k").body);
  ASSERT_TRUE(stored.IsObject());
  EXPECT_EQ(total_of(server.get("/search?study=k")), stored["filesCount"].GetInt64());
}

// dicomd reindex: refused while a server holds the folder; afterwards it
// rebuilds the index from the storage with a progress bar, and the next
// server finds everything.
TEST(SearchRoutes, ReindexRebuildsTheIndexFromTheStorage) {
  CoreServer server;
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(server.upload("s", {{"files", "IM" + std::to_string(i), ct_instance(i)}}).status, 201);
  auto busy = run_dicomd({"reindex", "--data", server.data_dir().string(), "--plugin-dir", core_plugin_dir()});
  EXPECT_EQ(busy.exit_code, 1);
  EXPECT_NE(busy.output.find("is using the data folder"), std::string::npos) << busy.output;

  ASSERT_EQ(server.process().stop(SIGTERM), 0);
  std::filesystem::remove(server.data_dir() / "index.sqlite3");
  std::filesystem::remove(server.data_dir() / "index.sqlite3-wal");
  std::filesystem::remove(server.data_dir() / "index.sqlite3-shm");
  auto done = run_dicomd({"reindex", "--data", server.data_dir().string(), "--plugin-dir", core_plugin_dir()});
  EXPECT_EQ(done.exit_code, 0) << done.output;
  EXPECT_NE(done.output.find("reindex [##############################] 5/5 files 100%"), std::string::npos)
      << done.output;
  EXPECT_NE(done.output.find("reindex: 5 files indexed"), std::string::npos) << done.output;
  server.restart();
  EXPECT_EQ(total_of(server.get("/search")), 5);
}

// Disk full under the index only (its database on a 1 MiB tmpfs in the
// server's own mount namespace, the files elsewhere): no upload fails for
// it — the files are stored — and once space is back the index catches up
// by itself (catch_up_interval_s), without a restart.
TEST(SearchRoutes, AFullIndexDiskFailsNoUploadAndTheIndexCatchesUp) {
  TempDir mount, data, config;
  int probe = 0;
  run_command("unshare -m sh -c 'mount -t tmpfs -o size=1m tmpfs " + mount.str() + "' 2>&1", &probe);
  ASSERT_EQ(probe, 0) << "this test needs a private mount namespace (root); scripts/test runs as root in CI";
  write_file(config / "c.json", R"({"listen":"127.0.0.1:0","data":")" + data.str() +
                                    R"(","plugins":[{"name":"storage-fs"},{"name":"files"},{"name":"validator-gdcm"},)"
                                    R"({"name":"metadata-gdcm"},{"name":"index-sqlite","config":{"file":")" +
                                    mount.str() + R"(/index.sqlite3","catch_up_interval_s":1}},{"name":"search"}]})");
  std::vector<std::string> wrapper = {
      "unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs \"$0\" && exec \"$@\"", mount.str()};
  ServerProcess server({"--config", (config / "c.json").string(), "--plugin-dir", core_plugin_dir()}, wrapper);
  // The rest of the tmpfs filled, through the server's view of its mounts.
  std::filesystem::path filler =
      std::filesystem::path("/proc") / std::to_string(server.pid()) / "root" / mount.path().relative_path() / "filler";
  {
    std::ofstream out(filler, std::ios::binary);
    std::string block(4096, 'f');
    while (out.write(block.data(), static_cast<std::streamsize>(block.size())) && out.flush()) {
    }
  }
  const int kFiles = 40;
  for (int i = 0; i < kFiles; ++i) {
    auto [type, body] = multipart_body({{"study", "full"}}, {{"files", "IM" + std::to_string(i), ct_instance(i)}});
    auto r = request(server.port(), "POST", "/upload", body, {{"Content-Type", type}});
    EXPECT_EQ(r.status, 201) << r.body;
  }
  EXPECT_LT(total_of(request(server.port(), "GET", "/search?study=full")), kFiles) << "the index disk never filled";
  std::filesystem::remove(filler);
  int64_t total = -1;
  for (int attempt = 0; attempt < 100 && total != kFiles; ++attempt) {
    std::this_thread::sleep_for(100ms);
    total = total_of(request(server.port(), "GET", "/search?study=full"));
  }
  EXPECT_EQ(total, kFiles) << server.log();
  EXPECT_NE(server.log().find("the index caught up"), std::string::npos) << server.log();
  EXPECT_EQ(server.stop(SIGTERM), 0);
}
