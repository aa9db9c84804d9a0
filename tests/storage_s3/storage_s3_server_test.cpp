// dicomd with storage-s3 on a real S3 server: start-up refusals that say
// what is wrong, and a store that goes away and comes back (503, never a
// 500 with details, then service again). The original API's whole suite
// runs on storage-s3 too (the "s3." tests of original_api_tests).
#include <gtest/gtest.h>

#include "core_server.h"
#include "s3_server.h"
#include "server_process.h"

using namespace dicomd::test;

namespace {

std::string config_for(const S3Server& s3, const std::string& secret_file = "") {
  return R"({"listen":"127.0.0.1:0","plugins":[{"name":"storage-s3","config":{)" + s3.config_keys(secret_file) +
         R"(}},{"name":"files"},{"name":"validator-gdcm"},{"name":"metadata-gdcm"},{"name":"render-png"}]})";
}

RunResult start_with(const std::string& config) {
  TempDir dir;
  write_file(dir / "config.json", config);
  return run_dicomd({"--config", (dir / "config.json").string(), "--data", (dir / "data").string(), "--plugin-dir",
                     core_plugin_dir()});
}

std::string ct_small() {
  return read_file(pydicom_data_dir() / "test_files" / "CT_small.dcm");
}

}  // namespace

TEST(StorageS3Server, WrongCredentialsStopTheStartWithAClearReason) {
  S3Server s3;
  RunResult r = start_with(config_for(s3, s3.wrong_secret_file()));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("storage-s3: the object store refused dicomd's credentials (403 SignatureDoesNotMatch)"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("not-the-secret"), std::string::npos);
}

TEST(StorageS3Server, AMissingBucketStopsTheStart) {
  S3Server s3("-");
  RunResult r = start_with(config_for(s3));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find(R"(storage-s3: the bucket "dicom" does not exist)"), std::string::npos) << r.output;
}

TEST(StorageS3Server, AStoreDownAtStartStopsTheStart) {
  S3Server s3;
  s3.stop();
  RunResult r = start_with(config_for(s3));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("storage-s3: cannot reach the object store at " + s3.endpoint()), std::string::npos)
      << r.output;
}

TEST(StorageS3Server, MissingKeysAndBadSettingsAreRefusedByName) {
  S3Server s3;
  for (auto [config, expected] : std::vector<std::pair<std::string, std::string>>{
           {R"({"bucket":"b","access_key_file":"/a","secret_key_file":"/b"})", "needs \"endpoint\""},
           {R"({"endpoint":"http://x","access_key_file":"/a","secret_key_file":"/b"})", "needs \"bucket\""},
           {R"({"endpoint":"http://x","bucket":"b"})", "needs \"access_key_file\""},
           {R"({"endpoint":"http://x","bucket":"b","access_key_file":"/nonexistent","secret_key_file":"/b"})",
            "cannot read access_key_file"},
           {R"({"endpoint":"http://x/path","bucket":"b","access_key_file":"/a","secret_key_file":"/b"})",
            "without a path"},
           {R"({"endpoint":"http://x","bucket":"b","access_key_file":"/a","secret_key_file":"/b","addressing":"x"})",
            "\"addressing\" must be"},
           {R"({"endpoint":"http://x","bucket":"b","access_key_file":"/a","secret_key_file":"/b","part_size_mb":1})",
            "part_size_mb"},
       }) {
    RunResult r = start_with(R"({"listen":"127.0.0.1:0","plugins":[{"name":"storage-s3","config":)" + config +
                             R"(},{"name":"validator-gdcm"}]})");
    EXPECT_NE(r.exit_code, 0) << config;
    EXPECT_NE(r.output.find(expected), std::string::npos) << config << "\n" << r.output;
  }
}

TEST(StorageS3Server, AStoreGoingAwayGives503AndServiceComesBack) {
  S3Server s3;
  TempDir dir;
  write_file(dir / "config.json", config_for(s3));
  ServerProcess server({"--config", (dir / "config.json").string(), "--data", (dir / "data").string(), "--plugin-dir",
                        core_plugin_dir()});
  auto upload = [&](const std::string& name) {
    auto [type, body] = multipart_body({{"study", "s"}}, {{"files", name, ct_small()}});
    return request(server.port(), "POST", "/upload", body, {{"Content-Type", type}});
  };
  ASSERT_EQ(upload("IM1").status, 201);
  s3.stop(true);
  const std::string unavailable = R"({"error":"the storage is unavailable; try again later","success":false})";
  for (const char* target : {"/files", "/files/s", "/files/s/IM1"}) {
    auto r = request(server.port(), "GET", target);
    EXPECT_EQ(r.status, 503) << target;
    EXPECT_EQ(r.body, unavailable) << target;
  }
  auto tags = request(server.port(), "GET", "/files/s/IM1/tags");
  EXPECT_EQ(tags.status, 503) << tags.body;
  auto stored = upload("IM2");
  EXPECT_EQ(stored.status, 503) << stored.body;
  EXPECT_EQ(request(server.port(), "GET", "/health").status, 200);
  EXPECT_NE(server.log().find("cannot reach the object store at " + s3.endpoint()), std::string::npos);

  s3.start();
  EXPECT_EQ(request(server.port(), "GET", "/files/s").body,
            R"({"files":["IM1"],"filesCount":1,"study":"s","success":true})");
  EXPECT_EQ(upload("IM2").status, 201);
  EXPECT_EQ(request(server.port(), "GET", "/files/s/IM2").body, ct_small());
}
