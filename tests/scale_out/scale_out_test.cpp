// Several dicomd hosts acting as one (docs/scale-out.md): two hosts on two
// loopback ports, each with a data folder of its own, sharing one
// PostgreSQL (index-postgres) and one S3 bucket (storage-s3). What one
// stores the other serves and finds at once; what one deletes or replaces
// the other never serves from a cache; one name raced through both is
// stored once; a host killed mid-upload loses nothing it acknowledged and
// leaves nothing half-written.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

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

// One host's config and data folder; every host of a test shares `s3`
// and the database `conninfo`.
class Host {
 public:
  Host(const S3Server& s3, const std::string& conninfo) {
    write_file(dir_ / "config.json", R"({"listen":"127.0.0.1:0","plugin_dir":")" + core_plugin_dir() +
                                         R"(","plugins":[{"name":"storage-s3","config":{)" + s3.config_keys() +
                                         R"(}},{"name":"files"},{"name":"validator-gdcm"},{"name":"metadata-gdcm"},)"
                                         R"({"name":"render-png"},{"name":"index-postgres","config":{"conninfo":")" +
                                         conninfo + R"("}},{"name":"search"}]})");
    start();
  }
  void start() {
    process_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--config", (dir_ / "config.json").string(), "--data", (dir_ / "data").string()});
  }
  ServerProcess& process() { return *process_; }
  uint16_t port() const { return process_->port(); }
  HttpReply get(const std::string& target, const std::map<std::string, std::string>& headers = {}) {
    return request(port(), "GET", target, "", headers);
  }

 private:
  TempDir dir_;
  std::unique_ptr<ServerProcess> process_;
};

}  // namespace

TEST(ScaleOut, TwoHostsOnOneDatabaseAndOneBucketServeAsOne) {
  S3Server s3;
  std::string db = fresh_pg_database();
  Host a(s3, db), b(s3, db);

  ASSERT_EQ(upload(a.port(), "s", "IM1", ct_instance(1)).status, 201);
  ASSERT_EQ(upload(a.port(), "s", "IM2", ct_instance(2)).status, 201);
  EXPECT_EQ(b.get("/files/s").body, R"({"files":["IM1","IM2"],"filesCount":2,"study":"s","success":true})");
  EXPECT_TRUE(b.get("/files/s/IM1").body == ct_instance(1));
  EXPECT_NE(b.get("/files/s/IM1/tag?tag=SOPInstanceUID").body.find(sop_of(1)), std::string::npos);
  auto png = b.get("/files/s/IM1/png");
  EXPECT_EQ(png.status, 200);
  EXPECT_EQ(png.header("content-type"), "image/png");
  EXPECT_EQ(total_of(b.get("/search?file=IM2")), 1);

  // Deleted through b: a answers 404 at once, for the file and everything
  // made of it, though a has read and cached it.
  std::string etag = a.get("/files/s/IM2").header("etag");
  ASSERT_EQ(a.get("/files/s/IM2/tags").status, 200);
  ASSERT_EQ(request(b.port(), "DELETE", "/files/s/IM2").status, 200);
  for (const char* target : {"/files/s/IM2", "/files/s/IM2/tags", "/files/s/IM2/tag?tag=Rows", "/files/s/IM2/png"})
    EXPECT_EQ(a.get(target).status, 404) << target;
  EXPECT_EQ(a.get("/files/s/IM2", {{"If-None-Match", etag}}).status, 404);
  EXPECT_EQ(total_of(a.get("/search?file=IM2")), 0);

  // Replaced through b (deleted, stored again with another PatientID): a
  // serves the new content, its old ETag no longer matches.
  ASSERT_NE(a.get("/files/s/IM1/tag?tag=PatientID").body.find("1CT1"), std::string::npos);
  etag = a.get("/files/s/IM1").header("etag");
  ASSERT_EQ(request(b.port(), "DELETE", "/files/s/IM1").status, 200);
  ASSERT_EQ(upload(b.port(), "s", "IM1", ct_instance(1, "ZZ99")).status, 201);
  EXPECT_NE(a.get("/files/s/IM1/tag?tag=PatientID").body.find("ZZ99"), std::string::npos);
  auto again = a.get("/files/s/IM1", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 200);
  EXPECT_TRUE(again.body == ct_instance(1, "ZZ99"));
  EXPECT_EQ(total_of(a.get("/search?PatientID=ZZ99")), 1);
  EXPECT_EQ(total_of(a.get("/search?PatientID=1CT1")), 0);
  EXPECT_EQ(a.process().stop(SIGTERM), 0) << a.process().log();
  EXPECT_EQ(b.process().stop(SIGTERM), 0) << b.process().log();
}

TEST(ScaleOut, OneNameUploadedToBothHostsAtOnceIsStoredOnce) {
  S3Server s3;
  std::string db = fresh_pg_database();
  Host a(s3, db), b(s3, db);
  for (int round = 0; round < 20; ++round) {
    std::string name = "same-" + std::to_string(round);
    std::atomic<int> created{0}, duplicate{0};
    std::string through_a = ct_instance(2 * round), through_b = ct_instance(2 * round + 1);
    auto client = [&](uint16_t port, const std::string& bytes) {
      auto r = upload(port, "race", name, bytes);
      if (r.status == 201) ++created;
      if (r.status == 422 && r.body.find(R"("reason":"duplicate")") != std::string::npos) ++duplicate;
    };
    std::thread ta(client, a.port(), through_a), tb(client, b.port(), through_b);
    ta.join();
    tb.join();
    ASSERT_EQ(created.load(), 1) << "round " << round;
    ASSERT_EQ(duplicate.load(), 1) << "round " << round;
    std::string stored = s3.object_bytes("race/" + name);
    ASSERT_TRUE(stored == through_a || stored == through_b) << "round " << round;
    ASSERT_EQ(total_of(b.get("/search?file=" + name)), 1) << "round " << round;
  }
  for (const auto& key : s3.object_keys()) EXPECT_TRUE(key.starts_with("race/")) << key;  // no claim left
}

TEST(ScaleOut, AHostKilledDuringUploadsLosesNothingItAcknowledged) {
  S3Server s3;
  std::string db = fresh_pg_database();
  Host a(s3, db), b(s3, db);
  std::mutex mutex;
  std::set<std::string> acknowledged;
  std::map<std::string, std::string> sent;  // every name tried, with its bytes
  std::atomic<bool> stop{false};
  std::atomic<int> next{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&] {
      while (!stop) {
        int i = next++;
        std::string name = "IM" + std::to_string(i), bytes = ct_instance(i);
        {
          std::lock_guard lock(mutex);
          sent[name] = bytes;
        }
        HttpReply r;
        try {
          r = upload(a.port(), "kill", name, bytes);
        } catch (const std::exception&) {
          return;  // the host died under this request
        }
        if (r.status != 201) return;
        std::lock_guard lock(mutex);
        acknowledged.insert(name);
      }
    });
  }
  while (next < 40) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(a.process().pid(), SIGKILL);
  stop = true;
  for (auto& t : clients) t.join();
  ASSERT_GE(acknowledged.size(), 20u);

  // b serves on: every acknowledged file is whole and searchable...
  for (const auto& name : acknowledged) {
    EXPECT_TRUE(b.get("/files/kill/" + name).body == sent[name]) << name;
    EXPECT_EQ(total_of(b.get("/search?file=" + name)), 1) << name;
  }
  // ...and whatever else is listed (uploads cut by the kill) is whole too:
  // nothing half-written is visible.
  auto listing = parse_json(b.get("/files/kill").body);
  ASSERT_TRUE(listing.IsObject());
  for (const auto& f : listing["files"].GetArray()) {
    std::string name = f.GetString();
    ASSERT_TRUE(sent.count(name)) << name;
    EXPECT_TRUE(b.get("/files/kill/" + name).body == sent[name]) << name;
  }
  EXPECT_GE(listing["files"].Size(), acknowledged.size());
  // The killed host comes back (its index reconciles with the bucket).
  a.start();
  EXPECT_EQ(a.get("/files/kill").body, b.get("/files/kill").body);
  EXPECT_EQ(a.process().stop(SIGTERM), 0) << a.process().log();
  EXPECT_EQ(b.process().stop(SIGTERM), 0) << b.process().log();
}
