// The jobs plugin in the real server: thumbnails made at ingest and served
// as a fresh render would be, animations in each format decoded back by
// PIL, every bad input of docs/api.md ("Jobs"), a restart, a kill -9 during
// a job (its lease taken over, the job done once), and two hosts sharing
// one queue on PostgreSQL.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <iostream>
#include <chrono>
#include <random>
#include <thread>

#include "core_server.h"
#include "dicom_files.h"
#include "postgres.h"
#include "synthetic_series.h"

using namespace dicomd::test;

namespace {

using Clock = std::chrono::steady_clock;

std::string plugins_with_jobs(const std::string& jobs_config, const std::string& index = R"({"name":"index-sqlite"})",
                              const std::string& storage = R"({"name":"storage-fs"})") {
  return R"("plugins":[)" + storage +
         R"(,{"name":"files"},{"name":"validator-gdcm"},{"name":"metadata-gdcm"},{"name":"render-png"},)" + index +
         R"(,{"name":"search"},{"name":"jobs","config":)" + jobs_config + "}]";
}

std::string config_with_jobs(const std::string& jobs_config, const std::string& extra = "") {
  return R"({"listen":"127.0.0.1:0",)" + extra + plugins_with_jobs(jobs_config) + "}";
}

HttpReply upload_to(uint16_t port, const std::string& study, const std::string& name, const std::string& bytes) {
  auto [type, body] = multipart_body({{"study", study}}, {{"files", name, bytes}});
  return request(port, "POST", "/upload", body, {{"Content-Type", type}});
}

HttpReply post_job(uint16_t port, const std::string& json) {
  return request(port, "POST", "/jobs", json, {{"Content-Type", "application/json"}});
}

uint64_t job_of(const HttpReply& r) {
  auto d = parse_json(r.body);
  return d.IsObject() && d.HasMember("job") ? d["job"].GetUint64() : 0;
}

// The job's JSON once it is done, failed or cancelled (or after timeout).
rapidjson::Document wait_for_job(uint16_t port, uint64_t id, std::chrono::seconds timeout = std::chrono::seconds(60)) {
  auto until = Clock::now() + timeout;
  while (true) {
    auto d = parse_json(request(port, "GET", "/jobs/" + std::to_string(id)).body);
    std::string state = d.IsObject() && d.HasMember("state") ? d["state"].GetString() : "";
    if (state == "done" || state == "failed" || state == "cancelled" || Clock::now() > until) return d;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string state_of(const rapidjson::Document& d) {
  return d.IsObject() && d.HasMember("state") ? d["state"].GetString() : "?";
}

rapidjson::Document decoded(const std::string& bytes) {
  TempDir dir;
  write_file(dir / "animation", bytes);
  int status = 0;
  std::string out = run_command(shell_quote(DICOMD_TEST_SOURCE_DIR "/tests/jobs/decode_animation.py") + " " +
                                    shell_quote((dir / "animation").string()),
                                &status);
  EXPECT_EQ(status, 0) << out;
  return parse_json(out);
}

// `count` slices of one series, levels 0, step, 2 step... by position;
// uploaded in a shuffled order, with InstanceNumbers unless `numbered` is
// false (then ImagePositionPatient orders them).
std::string upload_series(uint16_t port, const std::string& study, int count, bool numbered = true,
                          unsigned size = 64) {
  std::string study_uid = new_uid(), series_uid = new_uid();
  std::vector<int> order(count);
  for (int i = 0; i < count; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  int step = std::max(1, 1000 / std::max(1, count));
  for (int i : order) {
    SliceSpec s = slice_of(study_uid, series_uid);
    if (numbered) s.instance_number = i + 1;
    s.z = numbered ? -2.5 * i : 2.5 * i;  // numbers win over positions when both are there
    s.level = i * step;
    s.width = s.height = size;
    // Names that sort neither by position nor by upload order.
    std::string name = "S";
    name += std::to_string(1000 + order[(i * 7) % count]);
    name += '-';
    name += std::to_string(i);
    EXPECT_EQ(upload_to(port, study, name, make_slice(s)).status, 201);
  }
  return series_uid;
}

// Frames in slice order: each brighter than the last, or, where slices
// differ by less than a grey level, not darker.
void expect_increasing(const rapidjson::Value& means, bool strictly = true) {
  for (rapidjson::SizeType i = 1; i < means.Size(); ++i) {
    if (strictly)
      EXPECT_LT(means[i - 1].GetDouble(), means[i].GetDouble())
          << "frames " << i - 1 << " and " << i << " out of order";
    else
      EXPECT_LE(means[i - 1].GetDouble(), means[i].GetDouble())
          << "frames " << i - 1 << " and " << i << " out of order";
  }
  EXPECT_LT(means[0].GetDouble(), means[means.Size() - 1].GetDouble());
}

TEST(Jobs, AThumbnailMadeAtIngestIsTheFreshRenderWithItsETag) {
  CoreServer server;
  ASSERT_EQ(upload_to(server.port(), "s", "IM1", read_file(pydicom_data_dir() / "test_files" / "CT_small.dcm")).status,
            201);
  // The stored event queued it: wait for it.
  uint64_t id = 0;
  for (auto until = Clock::now() + std::chrono::seconds(30); !id && Clock::now() < until;) {
    auto list = parse_json(server.get("/jobs?type=thumbnail&state=done").body);
    if (list["jobs"].Size()) id = list["jobs"][0]["id"].GetUint64();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_NE(id, 0u) << server.get("/jobs").body;
  auto stored = server.get("/jobs/" + std::to_string(id) + "/result");
  auto served = server.get("/files/s/IM1/png?size=128");
  ASSERT_EQ(served.status, 200);
  EXPECT_TRUE(served.body == stored.body) << "the store's thumbnail is what /png serves";
  // Forget it: /png renders afresh, to the same bytes and ETag.
  ASSERT_EQ(server.del("/jobs/" + std::to_string(id)).status, 200);
  auto fresh = server.get("/files/s/IM1/png?size=128");
  EXPECT_TRUE(fresh.body == served.body);
  EXPECT_EQ(fresh.header("etag"), served.header("etag"));
  EXPECT_EQ(
      request(server.port(), "GET", "/files/s/IM1/png?size=128", "", {{"If-None-Match", served.header("etag")}}).status,
      304);
}

TEST(Jobs, AnimationsOfASeriesDecodeBackInEachFormat) {
  CoreServer server;
  std::string series = upload_series(server.port(), "s", 12);
  for (const char* format : {"apng", "gif", "webp"}) {
    auto posted = post_job(server.port(), R"({"type":"animate","study":"s","series":")" + series + R"(","format":")" +
                                              format + R"(","fps":20,"size":48})");
    ASSERT_EQ(posted.status, 202) << posted.body;
    uint64_t id = job_of(posted);
    EXPECT_EQ(posted.header("location"), "/jobs/" + std::to_string(id));
    auto job = wait_for_job(server.port(), id);
    ASSERT_EQ(state_of(job), "done") << format;
    EXPECT_EQ(job["progress"].GetDouble(), 1.0);
    auto result = server.get(job["result"].GetString());
    ASSERT_EQ(result.status, 200);
    EXPECT_EQ(result.header("content-type"), std::string("image/") + format);
    auto d = decoded(result.body);
    EXPECT_EQ(d["frames"].GetInt(), 12) << format;
    EXPECT_EQ(d["size"][0].GetInt(), 48);
    if (d["durations"][0].IsNumber()) {
      EXPECT_NEAR(d["durations"][0].GetDouble(), 50, 1) << format;
    }
    expect_increasing(d["means"]);  // ordered by InstanceNumber, not by upload or name
    auto again =
        request(server.port(), "GET", job["result"].GetString(), "", {{"If-None-Match", result.header("etag")}});
    EXPECT_EQ(again.status, 304);
  }
}

TEST(Jobs, WithoutInstanceNumbersTheSlicePositionOrdersTheFrames) {
  CoreServer server;
  std::string series = upload_series(server.port(), "s", 8, false);
  auto job = wait_for_job(server.port(), job_of(post_job(server.port(), R"({"type":"animate","study":"s","series":")" +
                                                                            series + R"(","format":"apng"})")));
  ASSERT_EQ(state_of(job), "done");
  auto d = decoded(server.get(job["result"].GetString()).body);
  EXPECT_EQ(d["frames"].GetInt(), 8);
  expect_increasing(d["means"]);
}

TEST(Jobs, AMultiFrameFileAnimatesFrameByFrame) {
  CoreServer server;
  SliceSpec s = slice_of(new_uid(), new_uid());
  s.frames = 9;
  s.level = 100;
  ASSERT_EQ(upload_to(server.port(), "s", "MF", make_slice(s)).status, 201);
  auto job = wait_for_job(server.port(), job_of(post_job(server.port(), R"({"type":"animate","study":"s","file":"MF",)"
                                                                        R"("format":"gif","fps":5})")));
  ASSERT_EQ(state_of(job), "done") << job["error"].GetString();
  auto d = decoded(server.get(job["result"].GetString()).body);
  EXPECT_EQ(d["frames"].GetInt(), 9);
  EXPECT_EQ(d["durations"][0].GetInt(), 200);
}

// Frames are fitted into size x size; shapes that still differ are refused
// (docs/api.md), not stretched.
TEST(Jobs, ASeriesOfMixedShapesFailsWithItsReason) {
  CoreServer server;
  std::string study_uid = new_uid(), series_uid = new_uid();
  for (int i = 0; i < 2; ++i) {
    SliceSpec s = slice_of(study_uid, series_uid);
    s.instance_number = i + 1;
    s.height = i ? 32 : 64;
    ASSERT_EQ(upload_to(server.port(), "s", "IM" + std::to_string(i), make_slice(s)).status, 201);
  }
  auto job = wait_for_job(server.port(), job_of(post_job(server.port(), R"({"type":"animate","study":"s","series":")" +
                                                                            series_uid + R"("})")));
  EXPECT_EQ(state_of(job), "failed");
  EXPECT_EQ(job["attempts"].GetInt(), 1) << "bad input is not retried";
  EXPECT_NE(std::string(job["error"].GetString()).find("mixes image shapes (64x64 and 64x32"), std::string::npos)
      << job["error"].GetString();
  EXPECT_EQ(server.get("/jobs/" + std::to_string(job["id"].GetUint64()) + "/result").status, 409);
}

TEST(Jobs, BadRequestsAreRefusedWithTheirReason) {
  CoreServer server({}, config_with_jobs(R"({"max_frames":5,"workers":0})"));
  std::string series = upload_series(server.port(), "s", 6);
  SliceSpec long_file = slice_of(new_uid(), new_uid());
  long_file.frames = 2000;
  long_file.width = long_file.height = 4;
  ASSERT_EQ(upload_to(server.port(), "s", "LONG", make_slice(long_file)).status, 201);
  ASSERT_EQ(upload_to(server.port(), "s", "SR", read_file(pydicom_data_dir() / "test_files" / "rtstruct.dcm")).status,
            201);
  ASSERT_EQ(upload_to(server.port(), "t", "IM", make_slice(slice_of(new_uid(), new_uid()))).status, 201);
  struct Case {
    std::string body;
    int status;
    std::string error;
  };
  std::vector<Case> cases{
      {R"({"type":"animate","study":"nope","file":"IM"})", 404, "study not found"},
      {R"({"type":"animate","study":"t","file":"nope"})", 404, "file not found"},
      {R"({"type":"animate","study":"t","series":"1.2.3.4"})", 404, "series not found"},
      {R"({"type":"animate","study":"s","series":")" + series + R"("})", 400, "at most 5"},
      {R"({"type":"animate","study":"s","file":"LONG"})", 400,
       "the file has 2000 frames; an animation shows at most 5"},
      {R"({"type":"animate","study":"t","file":"IM","fps":0})", 400, "fps must be an integer from 1 to 50"},
      {R"({"type":"animate","study":"t","file":"IM","fps":10000})", 400, "fps must be an integer from 1 to 50"},
      {R"({"type":"animate","study":"t","file":"IM","size":100000})", 400, "size must be an integer from 16 to 1024"},
      {R"({"type":"animate","study":"s","file":"SR"})", 422, "the file has no image"},
      {R"({"type":"animate","study":"t","file":"IM","format":"mp4"})", 400, "format must be apng, gif or webp"},
      {R"({"type":"animate","study":"t","file":"IM","window":"40"})", 400, "window must be"},
      {R"({"type":"animate","study":"t"})", 400, "give either series"},
      {R"({"type":"animate","study":"t","file":"IM","series":"1.2"})", 400, "give either series"},
      {R"({"type":"animate","study":"t","series":"1.2\\3"})", 400, "series must be a SeriesInstanceUID"},
      {R"({"type":"thumbnail","study":"t","file":"IM"})", 400, "type must be"},
      {R"({"type":"animate","study":"t","file":"IM","colour":1})", 400, "unknown member"},
      {R"({"type":"animate","study":"../t","file":"IM"})", 400, "invalid study name"},
      {R"(not json)", 400, "the body must be a JSON object"},
  };
  for (const auto& c : cases) {
    auto r = post_job(server.port(), c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    EXPECT_NE(r.body.find(c.error), std::string::npos) << c.body << " -> " << r.body;
  }
  EXPECT_EQ(request(server.port(), "POST", "/jobs", "{}", {{"Content-Type", "text/plain"}}).status, 415);
  EXPECT_EQ(server.get("/jobs/0").status, 400);
  EXPECT_EQ(server.get("/jobs/abc").status, 400);
  EXPECT_EQ(server.get("/jobs/999999").status, 404);
  EXPECT_EQ(server.get("/jobs/999999/result").status, 404);
  EXPECT_EQ(server.del("/jobs/999999").status, 404);
  EXPECT_EQ(server.get("/jobs?state=lost").status, 400);
  EXPECT_EQ(server.get("/jobs?limit=0").status, 400);

  // The same request twice: one job (while queued, running or done).
  auto first = post_job(server.port(), R"({"type":"animate","study":"t","file":"IM","fps":10})");
  auto second = post_job(server.port(), R"({"fps":10,"file":"IM","study":"t","type":"animate"})");
  ASSERT_EQ(first.status, 202);
  ASSERT_EQ(second.status, 202);
  EXPECT_EQ(job_of(first), job_of(second));
  EXPECT_NE(second.body.find("\"created\":false"), std::string::npos);
  // Not done yet (this host runs no jobs): its result is a 409.
  EXPECT_EQ(server.get("/jobs/" + std::to_string(job_of(first)) + "/result").status, 409);
}

TEST(Jobs, DeletingASourceFileCancelsItsPendingJobs) {
  CoreServer server({}, config_with_jobs(R"({"workers":0})"));
  std::string series = upload_series(server.port(), "s", 3);
  uint64_t id = job_of(post_job(server.port(), R"({"type":"animate","study":"s","series":")" + series + R"("})"));
  ASSERT_NE(id, 0u);
  auto files = parse_json(server.get("/files/s").body);
  ASSERT_EQ(server.del("/files/s/" + std::string(files["files"][0].GetString())).status, 200);
  auto job = wait_for_job(server.port(), id, std::chrono::seconds(10));
  EXPECT_EQ(state_of(job), "cancelled");
  EXPECT_STREQ(job["error"].GetString(), "a source file was removed");
}

TEST(Jobs, QueuedJobsResumeAfterARestart) {
  CoreServer server({}, config_with_jobs(R"({"workers":0})"));
  std::string series = upload_series(server.port(), "s", 5);
  std::vector<uint64_t> ids;
  for (int fps : {5, 6, 7}) {
    ids.push_back(job_of(post_job(server.port(), R"({"type":"animate","study":"s","series":")" + series +
                                                     R"(","fps":)" + std::to_string(fps) + "}")));
    ASSERT_NE(ids.back(), 0u);
  }
  EXPECT_EQ(server.process().stop(SIGTERM), 0);
  // The same data folder, now with workers.
  write_file(server.dir() / "config.json", config_with_jobs(R"({"workers":2,"keep_finished_days":7})"));
  server.restart();
  for (uint64_t id : ids) {
    auto job = wait_for_job(server.port(), id);
    EXPECT_EQ(state_of(job), "done") << id;
    EXPECT_EQ(job["attempts"].GetInt(), 1);
  }
}

// kill -9 while a job runs: the restarted host takes the job over once its
// lease (2 s) has expired, and the job is done, once, on its second attempt.
TEST(Jobs, AJobOfAKilledHostIsTakenOverAfterItsLease) {
  // One job at a time, one render at a time: a job of some seconds.
  std::string config = config_with_jobs(R"({"workers":1,"frame_parallelism":1,"lease_s":2,"thumbnails":false})",
                                        R"("isolation":{"workers":1},)");
  CoreServer server({}, config);
  constexpr int kSlices = 400;
  std::string series = upload_series(server.port(), "s", kSlices, true, 256);
  auto posted_at = Clock::now();
  uint64_t id = job_of(post_job(
      server.port(), R"({"type":"animate","study":"s","series":")" + series + R"(","format":"webp","size":256})"));
  ASSERT_NE(id, 0u);
  // Claimed (the host holds its lease): kill it at once. Reading 400 slices'
  // positions alone outlasts this loop's 5 ms.
  bool running = false;
  for (auto until = Clock::now() + std::chrono::seconds(60); !running && Clock::now() < until;) {
    auto d = parse_json(server.get("/jobs/" + std::to_string(id)).body);
    running = state_of(d) == "running";
    if (state_of(d) == "done") {
      FAIL() << "the job ended before the kill; make it longer";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(running);
  auto killed_at = Clock::now();
  std::cerr << "killed " << std::chrono::duration_cast<std::chrono::milliseconds>(killed_at - posted_at).count()
            << " ms into the job\n";
  server.restart();  // SIGKILL, then the same data folder again
  auto job = wait_for_job(server.port(), id, std::chrono::seconds(120));
  ASSERT_EQ(state_of(job), "done") << job["error"].GetString();
  EXPECT_EQ(job["attempts"].GetInt(), 2) << "taken over once";
  EXPECT_GE(Clock::now() - killed_at, std::chrono::seconds(1)) << "not before the lease expired";
  auto d = decoded(server.get(job["result"].GetString()).body);
  // libwebp merges a frame too close to the last one into it, lengthening
  // its duration: every slice's 100 ms is there.
  double total_ms = 0;
  for (const auto& ms : d["durations"].GetArray()) total_ms += ms.GetDouble();
  EXPECT_NEAR(total_ms, kSlices * 100, 1);
  expect_increasing(d["means"], false);
}

// Two hosts on one PostgreSQL and one folder: jobs queued through the one
// that runs none are run by the other, woken by NOTIFY (its poll is a
// minute), and the result is served by either.
TEST(Jobs, TwoHostsShareOneQueue) {
  TempDir dir;
  std::string conninfo = fresh_pg_database();
  std::string index = R"({"name":"index-postgres","config":{"conninfo":")" + conninfo + R"("}})";
  std::string storage = R"({"name":"storage-fs","config":{"shared":true}})";
  auto config = [&](const std::string& jobs) {
    return R"({"listen":"127.0.0.1:0","shared_data_folder":true,"plugin_dir":")" + core_plugin_dir() + R"(",)" +
           plugins_with_jobs(jobs, index, storage) + "}";
  };
  write_file(dir / "api.json", config(R"({"workers":0})"));
  write_file(dir / "worker.json", config(R"({"workers":2,"poll_ms":60000})"));
  ServerProcess api({"--config", (dir / "api.json").string(), "--data", (dir / "data").string()});
  ServerProcess worker({"--config", (dir / "worker.json").string(), "--data", (dir / "data").string()});
  std::string series = upload_series(api.port(), "s", 6);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the worker's idle wait has begun
  auto start = Clock::now();
  uint64_t id = job_of(post_job(api.port(), R"({"type":"animate","study":"s","series":")" + series + R"("})"));
  auto job = wait_for_job(api.port(), id, std::chrono::seconds(30));
  ASSERT_EQ(state_of(job), "done");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10)) << "woken by NOTIFY, not by its one-minute poll";
  EXPECT_NE(std::string(job["worker"].GetString()).find(std::to_string(worker.pid())), std::string::npos);
  auto from_api = request(api.port(), "GET", job["result"].GetString());
  auto from_worker = request(worker.port(), "GET", job["result"].GetString());
  ASSERT_EQ(from_api.status, 200);
  EXPECT_TRUE(from_api.body == from_worker.body);
  // Thumbnails of the uploads through the API host are made by the worker
  // host (after the animation, which goes first).
  rapidjson::SizeType thumbnails = 0;
  for (auto until = Clock::now() + std::chrono::seconds(30); thumbnails < 6 && Clock::now() < until;) {
    thumbnails = parse_json(request(api.port(), "GET", "/jobs?type=thumbnail&state=done").body)["jobs"].Size();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(thumbnails, 6u);
}

TEST(Jobs, MetricsCountTheQueue) {
  CoreServer server({}, config_with_jobs(R"({"workers":0})"));
  upload_series(server.port(), "s", 2);
  auto metrics = server.get("/metrics").body;
  EXPECT_NE(metrics.find("dicomd_jobs{state=\"queued\"} 2"), std::string::npos) << metrics;
}

}  // namespace
