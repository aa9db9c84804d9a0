// Two dicomd hosts on two loopback ports share one PostgreSQL index and one
// data folder (shared_data_folder, storage-fs "shared"): what one stores is
// found by a search on the other at once, what one deletes is gone on the
// other at once, and neither serves a stale cached header of a file the
// other replaced.
#include <gtest/gtest.h>
#include <signal.h>

#include "core_server.h"
#include "ct_instances.h"
#include "postgres.h"

using namespace dicomd::test;

namespace {

HttpReply upload(uint16_t port, const std::string& study, const std::string& name, const std::string& bytes) {
  auto [type, body] = multipart_body({{"study", study}}, {{"files", name, bytes}});
  return request(port, "POST", "/upload", body, {{"Content-Type", type}});
}

}  // namespace

TEST(TwoHosts, OneIndexAndOneFolderServeBothAtOnce) {
  TempDir dir;
  std::string conninfo = fresh_pg_database();
  write_file(
      dir / "config.json",
      R"({"listen":"127.0.0.1:0","shared_data_folder":true,"plugin_dir":")" + core_plugin_dir() +
          R"(","plugins":[{"name":"storage-fs","config":{"shared":true}},{"name":"files"},{"name":"validator-gdcm"},)"
          R"({"name":"metadata-gdcm"},{"name":"index-postgres","config":{"conninfo":")" +
          conninfo + R"("}},{"name":"search"}]})");
  std::vector<std::string> args = {"--config", (dir / "config.json").string(), "--data", (dir / "data").string()};
  ServerProcess a(args), b(args);

  for (int i = 0; i < 10; ++i) {
    ServerProcess& writer = i % 2 ? a : b;
    ServerProcess& reader = i % 2 ? b : a;
    std::string name = "IM" + std::to_string(i);
    ASSERT_EQ(upload(writer.port(), "s", name, ct_instance(i)).status, 201);
    auto found = request(reader.port(), "GET", "/search?file=" + name);
    EXPECT_EQ(total_of(found), 1) << name << ": " << found.body;
  }
  EXPECT_EQ(total_of(request(a.port(), "GET", "/search?study=s")), 10);

  // Deleted on one: gone on the other, in search and in the listing.
  ASSERT_EQ(request(b.port(), "DELETE", "/files/s/IM3").status, 200);
  EXPECT_EQ(total_of(request(a.port(), "GET", "/search?file=IM3")), 0);
  EXPECT_EQ(request(a.port(), "GET", "/files/s/IM3").status, 404);

  // A file a has read tags of, deleted and stored again with another
  // PatientID through b: a's tags and search show the new content.
  auto before = request(a.port(), "GET", "/files/s/IM4/tag?tag=PatientID");
  EXPECT_NE(before.body.find("1CT1"), std::string::npos) << before.body;
  ASSERT_EQ(request(b.port(), "DELETE", "/files/s/IM4").status, 200);
  ASSERT_EQ(upload(b.port(), "s", "IM4", ct_instance(4, "ZZ99")).status, 201);
  auto after = request(a.port(), "GET", "/files/s/IM4/tag?tag=PatientID");
  EXPECT_NE(after.body.find("ZZ99"), std::string::npos) << after.body;
  EXPECT_EQ(total_of(request(a.port(), "GET", "/search?PatientID=ZZ99")), 1);

  // A host that wants the folder alone is refused while they run.
  auto alone = run_dicomd({"--data", (dir / "data").string(), "--plugin-dir", core_plugin_dir()});
  EXPECT_EQ(alone.exit_code, 1);
  EXPECT_NE(alone.output.find("shared_data_folder"), std::string::npos) << alone.output;
  EXPECT_EQ(a.stop(SIGTERM), 0) << a.log();
  EXPECT_EQ(b.stop(SIGTERM), 0) << b.log();
}

// What the index and sharing settings refuse, each at start with its reason.
TEST(IndexConfig, BadSettingsStopTheServerNamingThem) {
  TempDir dir;
  struct Case {
    std::string config, message;
  };
  const std::vector<Case> cases = {
      {R"("shared_data_folder":"yes")", "shared_data_folder must be true or false"},
      {R"("plugins":[{"name":"storage-fs"},{"name":"files"},{"name":"validator-gdcm"},{"name":"metadata-gdcm"},)"
       R"({"name":"index-postgres"},{"name":"search"}])",
       "index-postgres needs one of conninfo or conninfo_file"},
      {R"("plugins":[{"name":"storage-fs"},{"name":"files"},{"name":"validator-gdcm"},{"name":"metadata-gdcm"},)"
       R"({"name":"index-postgres","config":{"conninfo":"host=/nonexistent dbname=x"}},{"name":"search"}])",
       "cannot connect to PostgreSQL"},
      {R"("plugins":[{"name":"storage-fs"},{"name":"files"},{"name":"validator-gdcm"},{"name":"metadata-gdcm"},)"
       R"({"name":"index-sqlite","config":{"catch_up_interval_s":0}},{"name":"search"}])",
       "catch_up_interval_s"},
      {R"("plugins":[{"name":"storage-fs"},{"name":"files"},{"name":"search"}])", "dicomd.index"},
  };
  for (const auto& c : cases) {
    write_file(dir / "c.json",
               R"({"listen":"127.0.0.1:0","plugin_dir":")" + core_plugin_dir() + "\"," + c.config + "}");
    auto r = run_dicomd({"--config", (dir / "c.json").string(), "--data", (dir / "data").string()});
    EXPECT_EQ(r.exit_code, 1) << c.config;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << c.config << ": " << r.output;
  }
}
