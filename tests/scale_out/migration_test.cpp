// From one machine to many (docs/scale-out.md): a data folder of storage-fs
// and index-sqlite is imported into storage-s3 and index-postgres with
// `dicomd import`, then two hosts on them serve every file, its uploader
// and every search the one machine did. A second import changes nothing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/xattr.h>

#include "core_server.h"
#include "ct_instances.h"
#include "postgres.h"
#include "s3_server.h"

using namespace dicomd::test;

namespace {

HttpReply upload(uint16_t port, const std::string& study, const std::string& name, const std::string& bytes) {
  auto [type, body] = multipart_body({{"study", study}}, {{"files", name, bytes}});
  return request(port, "POST", "/upload", body, {{"Content-Type", type}});
}

std::string shared_config(const S3Server& s3, const std::string& conninfo) {
  return R"({"listen":"127.0.0.1:0","plugin_dir":")" + core_plugin_dir() +
         R"(","plugins":[{"name":"storage-s3","config":{)" + s3.config_keys() +
         R"(}},{"name":"files"},{"name":"validator-gdcm"},{"name":"metadata-gdcm"},{"name":"render-png"},)"
         R"({"name":"index-postgres","config":{"conninfo":")" +
         conninfo + R"("}},{"name":"search"}]})";
}

}  // namespace

TEST(Migration, OneMachineMovesToABucketAndADatabase) {
  TempDir one;
  std::map<std::string, std::string> stored;  // "study/file" → bytes
  {
    ServerProcess server({"--data", (one / "data").string(), "--plugin-dir", core_plugin_dir()});
    for (int i = 0; i < 12; ++i) {
      std::string study = "study-" + std::to_string(i % 3), name = "IM " + std::to_string(i) + ".dcm";
      std::string bytes = ct_instance(i, i % 2 ? "AB12" : "CD34");
      ASSERT_EQ(upload(server.port(), study, name, bytes).status, 201);
      stored[study + "/" + name] = bytes;
    }
    ASSERT_EQ(server.stop(SIGTERM), 0) << server.log();
  }
  // An uploader, as storage-fs records it under auth-jwt.
  auto studies = one / "data" / "studies";
  ASSERT_EQ(::setxattr((studies / "study-0" / "IM 0.dcm").c_str(), "user.dicomd.uploader", "alice", 5, 0), 0);

  S3Server s3;
  std::string db = fresh_pg_database();
  TempDir many;
  write_file(many / "config.json", shared_config(s3, db));
  std::vector<std::string> import_args = {"import",
                                          "--from",
                                          studies.string(),
                                          "--config",
                                          (many / "config.json").string(),
                                          "--data",
                                          (many / "importer").string()};
  RunResult first = run_dicomd(import_args, std::chrono::seconds(120));
  EXPECT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("import: 12 files stored, 0 already there, 0 failed, of 12"), std::string::npos)
      << first.output;
  RunResult again = run_dicomd(import_args, std::chrono::seconds(120));
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("import: 0 files stored, 12 already there, 0 failed, of 12"), std::string::npos)
      << again.output;

  std::vector<std::unique_ptr<ServerProcess>> hosts;
  for (const char* name : {"a", "b"})
    hosts.push_back(std::make_unique<ServerProcess>(
        std::vector<std::string>{"--config", (many / "config.json").string(), "--data", (many / name).string()}));
  for (auto& host : hosts) {
    EXPECT_EQ(request(host->port(), "GET", "/files").body,
              R"({"studies":["study-0","study-1","study-2"],"studiesCount":3,"success":true})");
    for (const auto& [key, bytes] : stored) {
      std::string study = key.substr(0, key.find('/')), file = key.substr(key.find('/') + 1);
      EXPECT_TRUE(request(host->port(), "GET", "/files/" + study + "/" + url_encode(file)).body == bytes) << key;
    }
    auto alice = request(host->port(), "GET", "/files/study-0/IM%200.dcm");
    EXPECT_EQ(alice.header("x-dicomd-uploader"), "alice");
    EXPECT_EQ(total_of(request(host->port(), "GET", "/search?study=study-1")), 4);
    EXPECT_EQ(total_of(request(host->port(), "GET", "/search?PatientID=AB12")), 6);
    EXPECT_EQ(host->stop(SIGTERM), 0) << host->log();
  }
}

TEST(Migration, ImportNeedsAFolderAndAStorage) {
  TempDir dir;
  RunResult no_from = run_dicomd({"import", "--data", (dir / "d").string(), "--plugin-dir", core_plugin_dir()});
  EXPECT_EQ(no_from.exit_code, 1);
  EXPECT_NE(no_from.output.find("import needs --from DIR"), std::string::npos) << no_from.output;
  RunResult missing = run_dicomd({"import", "--from", (dir / "nothing").string(), "--data", (dir / "d").string(),
                                  "--plugin-dir", core_plugin_dir()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("is not a folder"), std::string::npos) << missing.output;
}
