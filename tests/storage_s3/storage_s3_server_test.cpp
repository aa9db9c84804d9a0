// dicomd with storage-s3 on a real S3 server: start-up refusals that say
// what is wrong, and a store that goes away and comes back (503, never a
// 500 with details, then service again). The original API's whole suite
// runs on storage-s3 too (the "s3." tests of original_api_tests).
#include <gtest/gtest.h>

#include "core_server.h"
#include "jwt_signing.h"
#include "s3_server.h"
#include "server_process.h"
#include "synthetic_dicom.h"
#include "tcp_proxy.h"

using namespace dicomd::test;

namespace {

std::string config_for(const S3Server& s3, const std::string& secret_file = "", const std::string& endpoint = "") {
  return R"({"listen":"127.0.0.1:0","plugins":[{"name":"storage-s3","config":{)" +
         s3.config_keys(secret_file, endpoint) +
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

// dicomd on `config`, in a folder of its own.
struct Server {
  explicit Server(const std::string& config) {
    write_file(dir / "config.json", config);
    process = std::make_unique<ServerProcess>(std::vector<std::string>{"--config", (dir / "config.json").string(),
                                                                       "--data", (dir / "data").string(),
                                                                       "--plugin-dir", core_plugin_dir()});
  }
  HttpReply upload(const std::string& name) {
    auto [type, body] = multipart_body({{"study", "s"}}, {{"files", name, ct_small()}});
    return request(process->port(), "POST", "/upload", body, {{"Content-Type", type}});
  }
  HttpReply get(const std::string& target) { return request(process->port(), "GET", target); }
  TempDir dir;
  std::unique_ptr<ServerProcess> process;
};

const std::string kUnavailable = R"({"error":"the storage is unavailable; try again later","success":false})";

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
  Server server(config_for(s3));
  ASSERT_EQ(server.upload("IM1").status, 201);
  s3.stop(true);
  for (const char* target : {"/files", "/files/s", "/files/s/IM1"}) {
    auto r = server.get(target);
    EXPECT_EQ(r.status, 503) << target;
    EXPECT_EQ(r.body, kUnavailable) << target;
  }
  auto tags = server.get("/files/s/IM1/tags");
  EXPECT_EQ(tags.status, 503) << tags.body;
  auto stored = server.upload("IM2");
  EXPECT_EQ(stored.status, 503) << stored.body;
  EXPECT_EQ(server.get("/health").status, 200);
  EXPECT_NE(server.process->log().find("cannot reach the object store at " + s3.endpoint()), std::string::npos);

  s3.start();
  EXPECT_EQ(server.get("/files/s").body, R"({"files":["IM1"],"filesCount":1,"study":"s","success":true})");
  EXPECT_EQ(server.upload("IM2").status, 201);
  EXPECT_TRUE(server.get("/files/s/IM2").body == ct_small());
}

// The store goes away in the middle of an upload's PUT (the proxy cuts the
// connection after the request's first bytes, on every retry): that file
// fails with storage_error, and nothing of it is listed or left behind.
void cut_mid_upload(S3Server& s3) {
  TcpProxy proxy(s3.port());
  Server server(config_for(s3, "", "http://127.0.0.1:" + std::to_string(proxy.port())));
  proxy.cut_on("PUT /dicom/s/IM1");
  auto r = server.upload("IM1");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find(R"("reason":"storage_error")"), std::string::npos) << r.body;
  EXPECT_GE(proxy.cuts(), 3);  // the first attempt and two retries
  proxy.cut_on("");
  EXPECT_EQ(server.get("/files/s").status, 404);
  EXPECT_EQ(server.get("/files/s/IM1").status, 404);
  EXPECT_TRUE(s3.object_keys().empty());  // no claim left either
  EXPECT_EQ(server.upload("IM1").status, 201);
  EXPECT_TRUE(server.get("/files/s/IM1").body == ct_small());
}

TEST(StorageS3Server, AStoreCutMidUploadFailsTheFileAndListsNothing) {
  S3Server s3;
  cut_mid_upload(s3);
}

// The same on a store that keeps what a cut PUT sent (s3rver's own
// behaviour; no S3 we know of): storage-s3, which holds the name's claim,
// finds the torn object and removes it.
TEST(StorageS3Server, ATornWriteAStoreKeptIsRemoved) {
  S3Server s3(S3Server::kBucket, true);
  cut_mid_upload(s3);
}

// Credentials the store stops accepting after the start: 503 to clients,
// a clear log line naming the 403, never the secret.
TEST(StorageS3Server, CredentialsRefusedAfterTheStartGive503AndALogLine) {
  S3Server s3;
  Server server(config_for(s3));
  ASSERT_EQ(server.upload("IM1").status, 201);
  s3.stop();
  s3.change_secret("a-rotated-secret");
  s3.start();
  for (const char* target : {"/files", "/files/s", "/files/s/IM1", "/files/s/IM1/tags"}) {
    auto r = server.get(target);
    EXPECT_EQ(r.status, 503) << target << ": " << r.body;
    if (std::string(target) != "/files/s/IM1/tags") {
      EXPECT_EQ(r.body, kUnavailable) << target;
    }
  }
  EXPECT_EQ(server.upload("IM2").status, 503);
  std::string log = server.process->log();
  EXPECT_NE(log.find("refused dicomd's credentials (403 SignatureDoesNotMatch)"), std::string::npos) << log;
  EXPECT_EQ(log.find("dicomd-test-secret"), std::string::npos);
  EXPECT_EQ(log.find("a-rotated-secret"), std::string::npos);
}

// A store that accepts connections and answers nothing: every request is
// answered 503 within the configured bounds (3 s without a byte, 2
// retries), and service resumes when the store does.
TEST(StorageS3Server, AFrozenStoreIsAnswered503WithinTheTimeouts) {
  S3Server s3;
  Server server(config_for(s3));
  ASSERT_EQ(server.upload("IM1").status, 201);
  s3.pause();
  auto start = std::chrono::steady_clock::now();
  auto r = server.get("/files/s");
  auto took = std::chrono::steady_clock::now() - start;
  s3.resume();
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_GE(took, std::chrono::seconds(3));
  EXPECT_LT(took, std::chrono::seconds(15));
  EXPECT_EQ(server.get("/files/s").status, 200);
}

// A header needs a file's start only: on storage-s3 the tags of a 10 MB
// radiograph cost one ranged GET of 64 KiB (read_range, ABI 1.7), not the
// object (counted at a proxy in front of the store).
TEST(StorageS3Server, TagsOfALargeFileFetchItsStartOnly) {
  S3Server s3;
  TcpProxy proxy(s3.port());
  Server server(config_for(s3, "", "http://127.0.0.1:" + std::to_string(proxy.port())));
  std::string big = dicomd::bench::make_dicom(2000, 2500, 1000, 2000);
  ASSERT_GT(big.size(), 9u << 20);
  auto [type, body] = multipart_body({{"study", "s"}}, {{"files", "big", big}});
  ASSERT_EQ(request(server.process->port(), "POST", "/upload", body, {{"Content-Type", type}}).status, 201);
  uint64_t before = proxy.bytes_from_target();
  auto tags = server.get("/files/s/big/tag?tag=Rows&tag=Columns");
  EXPECT_EQ(tags.status, 200) << tags.body;
  EXPECT_NE(tags.body.find(R"("value":2500)"), std::string::npos) << tags.body;
  uint64_t for_tags = proxy.bytes_from_target() - before;
  EXPECT_LT(for_tags, 256u << 10);
  EXPECT_GT(for_tags, 64u << 10);
  before = proxy.bytes_from_target();
  EXPECT_EQ(server.get("/files/s/big").body.size(), big.size());
  EXPECT_GE(proxy.bytes_from_target() - before, big.size());  // the counter sees a whole read
}

// With auth-jwt, a standard role deletes only what it uploaded: the check
// needs the uploader, which storage-s3 reads with a HEAD, never by
// fetching the object (counted at a proxy in front of the store).
TEST(StorageS3Server, ADeletesOwnerCheckReadsTheUploaderNotTheObject) {
  S3Server s3;
  TcpProxy proxy(s3.port());
  TempDir keys;
  const std::string secret = "s3-owner-test-secret-0123456789abcdefghij";
  write_file(keys / "secret", secret);
  std::filesystem::permissions(keys / "secret", std::filesystem::perms::owner_read);
  std::string config = config_for(s3, "", "http://127.0.0.1:" + std::to_string(proxy.port()));
  config.insert(
      config.find(R"({"name":"storage-s3")"),
      R"({"name":"auth-jwt","config":{"algorithm":"HS256","key_file":")" + (keys / "secret").string() + R"("}},)");
  Server server(config);
  auto bearer = [&](const std::string& subject) {
    std::string claims =
        R"({"sub":")" + subject + R"(","role":"standard","exp":)" + std::to_string(unix_now() + 600) + "}";
    return "Bearer " + sign_hs256(unsigned_token(R"({"alg":"HS256","typ":"JWT"})", claims), secret);
  };
  std::string big = dicomd::bench::make_dicom(2000, 2500, 1000, 2000);
  auto [type, body] = multipart_body({{"study", "s"}}, {{"files", "big", big}});
  ASSERT_EQ(request(server.process->port(), "POST", "/upload", body,
                    {{"Content-Type", type}, {"Authorization", bearer("alice")}})
                .status,
            201);
  uint64_t before = proxy.bytes_from_target();
  auto refused = request(server.process->port(), "DELETE", "/files/s/big", "", {{"Authorization", bearer("bob")}});
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_LT(proxy.bytes_from_target() - before, 64u << 10);
  auto deleted = request(server.process->port(), "DELETE", "/files/s/big", "", {{"Authorization", bearer("alice")}});
  EXPECT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_LT(proxy.bytes_from_target() - before, 128u << 10);
  EXPECT_TRUE(s3.object_keys().empty());
}
