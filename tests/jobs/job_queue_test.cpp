// dicomd.jobqueue v1 as index-sqlite and index-postgres provide it, through
// its C vtable: claims are exclusive, a lease that expires is taken over
// and the old claim can no longer end the job, transient failures come
// back after their delay, keys deduplicate, a changed source cancels.
#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "job_queue.h"
#include "pg_database.h"
#include "postgres.h"
#include "sqlite_database.h"
#include "temp_dir.h"

using dicomd::index::JobQueue;
using dicomd::index::PgDatabase;
using dicomd::index::SqlDatabase;
using dicomd::index::SqliteDatabase;

namespace {

void log_to_stderr(dicomd_host*, int32_t, dicomd_str message) {
  fprintf(stderr, "%.*s\n", static_cast<int>(message.len), message.ptr);
}

const dicomd_host_api* test_api() {
  static dicomd_host_api api = [] {
    dicomd_host_api a{};
    a.struct_size = sizeof a;
    a.log = log_to_stderr;
    return a;
  }();
  return &api;
}

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  return d;
}

std::string job(const std::string& kind, const std::string& key = "", int max_attempts = 3,
                const std::string& sources = "[]") {
  return R"({"kind":")" + kind + R"(","key":")" + key + R"(","max_attempts":)" + std::to_string(max_attempts) +
         R"(,"params":{"n":1},"sources":)" + sources + "}";
}

struct Claimed {
  uint64_t id = 0, token = 0;
  int attempt = 0;
};

// One database (a SQLite file, or a fresh PostgreSQL database), and a queue
// on it; a second queue on a second connection pool plays another host.
class QueueTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      db_ = std::make_unique<SqliteDatabase>(dir_ / "index.sqlite3", [](const std::string&) {});
    } else {
      conninfo_ = dicomd::test::fresh_pg_database();
      db_ = std::make_unique<PgDatabase>(conninfo_);
    }
    provider_ = std::make_unique<JobQueue>(dicomd::Host(test_api(), nullptr), *db_);
    provider_->create_schema();
    queue_ = dicomd::JobQueue(provider_->vtable());
  }

  uint64_t submit(const std::string& json) { return parse(queue_.submit(json))["id"].GetUint64(); }
  std::optional<Claimed> claim(uint32_t lease_ms = 30000, const dicomd::JobQueue* q = nullptr) {
    auto c = (q ? *q : queue_).claim("test", lease_ms);
    if (!c) return std::nullopt;
    auto d = parse(*c);
    return Claimed{d["id"].GetUint64(), d["token"].GetUint64(), d["attempt"].GetInt()};
  }
  std::string state(uint64_t id) { return parse(*queue_.get(id))["state"].GetString(); }

  dicomd::test::TempDir dir_;
  std::string conninfo_;
  std::unique_ptr<SqlDatabase> db_;
  std::unique_ptr<JobQueue> provider_;
  dicomd::JobQueue queue_;
};

TEST_P(QueueTest, AClaimedJobCompletesOnceWithItsBytes) {
  uint64_t id = submit(job("animate"));
  auto c = claim();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->id, id);
  EXPECT_EQ(c->attempt, 1);
  EXPECT_FALSE(claim()) << "one job, claimed once";
  std::string bytes("\x89PNG\0\xff\x00 binary\0", 16);
  EXPECT_TRUE(queue_.complete(c->id, c->token, "image/png", bytes));
  EXPECT_FALSE(queue_.complete(c->id, c->token, "image/png", "again")) << "a done job cannot complete again";
  auto shown = parse(*queue_.get(id));
  EXPECT_STREQ(shown["state"].GetString(), "done");
  EXPECT_EQ(shown["completions"].GetInt(), 1);
  EXPECT_EQ(shown["progress"].GetInt(), 1000);
  auto result = queue_.result(id);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->content_type, "image/png");
  EXPECT_TRUE(result->body == bytes) << "the bytes survive the database unchanged";
}

TEST_P(QueueTest, ConcurrentWorkersClaimEachJobOnce) {
  constexpr int kJobs = 60;
  for (int i = 0; i < kJobs; ++i) submit(job("animate"));
  // Half the workers on a second pool: another host.
  std::unique_ptr<SqlDatabase> other_db;
  std::unique_ptr<JobQueue> other;
  dicomd::JobQueue other_queue = queue_;
  if (GetParam() == "postgres") {
    other_db = std::make_unique<PgDatabase>(conninfo_);
    other = std::make_unique<JobQueue>(dicomd::Host(test_api(), nullptr), *other_db);
    other_queue = dicomd::JobQueue(other->vtable());
  }
  std::mutex mutex;
  std::multiset<uint64_t> claimed;
  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w)
    workers.emplace_back([&, w] {
      const dicomd::JobQueue& q = w % 2 ? other_queue : queue_;
      while (auto c = claim(30000, &q)) {
        EXPECT_TRUE(q.complete(c->id, c->token, "text/plain", "ok"));
        std::lock_guard lock(mutex);
        claimed.insert(c->id);
      }
    });
  for (auto& t : workers) t.join();
  ASSERT_EQ(claimed.size(), size_t{kJobs});
  EXPECT_EQ(std::set<uint64_t>(claimed.begin(), claimed.end()).size(), size_t{kJobs}) << "a job claimed twice";
  EXPECT_EQ(parse(queue_.counts())["done"].GetInt(), kJobs);
}

TEST_P(QueueTest, AnExpiredLeaseIsTakenOverAndTheOldClaimIsFencedOff) {
  uint64_t id = submit(job("animate"));
  auto first = claim(300);
  ASSERT_TRUE(first);
  EXPECT_TRUE(queue_.renew(id, first->token, 200, 300));
  EXPECT_FALSE(claim(300)) << "a live lease is not taken over";
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  auto second = claim(30000);
  ASSERT_TRUE(second) << "the expired lease is taken over";
  EXPECT_EQ(second->id, id);
  EXPECT_EQ(second->attempt, 2);
  EXPECT_NE(second->token, first->token);
  // The first worker was only slow, not dead: it can no longer touch the job.
  EXPECT_FALSE(queue_.renew(id, first->token, 900, 30000));
  EXPECT_FALSE(queue_.complete(id, first->token, "text/plain", "stale"));
  EXPECT_FALSE(queue_.fail(id, first->token, "stale", 0));
  EXPECT_TRUE(queue_.complete(id, second->token, "text/plain", "fresh"));
  EXPECT_EQ(queue_.result(id)->body, "fresh");
  EXPECT_EQ(parse(*queue_.get(id))["completions"].GetInt(), 1);
}

TEST_P(QueueTest, ATransientFailureComesBackAfterItsDelayThenFails) {
  uint64_t id = submit(job("animate", "", 2));
  auto c = claim();
  ASSERT_TRUE(c);
  EXPECT_TRUE(queue_.fail(id, c->token, "renderers busy", 300));
  EXPECT_EQ(state(id), "queued");
  EXPECT_FALSE(claim()) << "not before its delay";
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  auto again = claim();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->attempt, 2);
  EXPECT_TRUE(queue_.fail(id, again->token, "renderers busy", 300));
  auto shown = parse(*queue_.get(id));
  EXPECT_STREQ(shown["state"].GetString(), "failed") << "no attempt left";
  EXPECT_STREQ(shown["error"].GetString(), "renderers busy");
}

TEST_P(QueueTest, BadInputFailsAtOnceAndAStoppingHostGivesItsJobBack) {
  uint64_t bad = submit(job("animate"));
  auto c = claim();
  EXPECT_TRUE(queue_.fail(bad, c->token, "the file has no image", 0));
  EXPECT_EQ(state(bad), "failed");
  uint64_t id = submit(job("animate", "", 1));
  c = claim();
  ASSERT_TRUE(c);
  EXPECT_TRUE(queue_.fail(id, c->token, "", 0, true));
  auto back = claim();
  ASSERT_TRUE(back) << "released, not failed, although it had one attempt";
  EXPECT_EQ(back->attempt, 1);
}

TEST_P(QueueTest, AWorkerThatDiesOnTheLastAttemptFailsTheJob) {
  uint64_t id = submit(job("animate", "", 1));
  ASSERT_TRUE(claim(100));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(claim());
  auto shown = parse(*queue_.get(id));
  EXPECT_STREQ(shown["state"].GetString(), "failed");
  EXPECT_NE(std::string(shown["error"].GetString()).find("worker stopped"), std::string::npos);
}

TEST_P(QueueTest, AKeyDeduplicatesUntilTheJobFails) {
  auto first = parse(queue_.submit(job("animate", "k1")));
  auto second = parse(queue_.submit(job("animate", "k1")));
  EXPECT_TRUE(first["created"].GetBool());
  EXPECT_FALSE(second["created"].GetBool());
  EXPECT_EQ(first["id"].GetUint64(), second["id"].GetUint64());
  auto c = claim();
  queue_.fail(c->id, c->token, "bad", 0);
  auto third = parse(queue_.submit(job("animate", "k1")));
  EXPECT_TRUE(third["created"].GetBool()) << "a failed job does not hold its key";
  EXPECT_NE(third["id"].GetUint64(), first["id"].GetUint64());
}

TEST_P(QueueTest, AChangedSourceCancelsPendingJobsAndDropsStaleResults) {
  std::string source = R"([["s","IM1"]])";
  uint64_t thumb = submit(job("thumbnail", "etag-1", 3, source));
  uint64_t done_animation = submit(job("animate", "a1", 3, source));
  for (int i = 0; i < 2; ++i) {
    auto c = claim();
    ASSERT_TRUE(queue_.complete(c->id, c->token, "image/png", "x"));
  }
  uint64_t pending = submit(job("animate", "a2", 3, source));
  uint64_t other = submit(job("animate", "a3", 3, R"([["s","IM2"]])"));
  queue_.cancel_source("s", "IM1", "thumbnail", "a source file was removed");
  EXPECT_FALSE(queue_.get(thumb)) << "the old thumbnail is forgotten";
  EXPECT_FALSE(queue_.result(0, "etag-1"));
  auto stale = parse(*queue_.get(done_animation));
  EXPECT_STREQ(stale["state"].GetString(), "cancelled");
  EXPECT_FALSE(queue_.result(done_animation)) << "its result is dropped";
  auto cancelled = parse(*queue_.get(pending));
  EXPECT_STREQ(cancelled["state"].GetString(), "cancelled");
  EXPECT_STREQ(cancelled["error"].GetString(), "a source file was removed");
  EXPECT_EQ(state(other), "queued");
}

TEST_P(QueueTest, CancelStopsARunningJobAndForgetsAFinishedOne) {
  uint64_t id = submit(job("animate"));
  auto c = claim();
  EXPECT_TRUE(queue_.cancel(id));
  EXPECT_EQ(state(id), "cancelled");
  EXPECT_FALSE(queue_.renew(id, c->token, 500, 30000)) << "its worker learns at its next renew";
  EXPECT_TRUE(queue_.cancel(id));
  EXPECT_FALSE(queue_.get(id));
  EXPECT_FALSE(queue_.cancel(id));
}

TEST_P(QueueTest, PruneForgetsOnlyFinishedJobsOfItsKindBeforeItsTime) {
  std::string source = R"([["s","IM1"]])";
  uint64_t done = submit(job("animate", "a1", 3, source));
  auto c = claim();
  ASSERT_TRUE(queue_.complete(c->id, c->token, "image/gif", "x"));
  uint64_t failed = submit(job("animate", "a2"));
  c = claim();
  ASSERT_TRUE(queue_.fail(c->id, c->token, "bad", 0));
  uint64_t thumbnail = submit(job("thumbnail", "t1"));
  c = claim();
  ASSERT_TRUE(queue_.complete(c->id, c->token, "image/png", "y"));
  uint64_t queued = submit(job("animate", "a3"));
  uint64_t running = submit(job("animate", "a4"));
  ASSERT_TRUE(claim());
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                 .count();
  EXPECT_EQ(queue_.prune("animate", now - 60000), 0u) << "nothing finished a minute ago";
  EXPECT_EQ(queue_.prune("animate", now + 1000), 2u);
  EXPECT_FALSE(queue_.get(done));
  EXPECT_FALSE(queue_.get(failed));
  EXPECT_TRUE(queue_.get(thumbnail)) << "another kind";
  EXPECT_TRUE(queue_.get(queued)) << "not finished";
  EXPECT_TRUE(queue_.get(running)) << "not finished";
  queue_.cancel_source("s", "IM1", "", "gone");  // its source rows went with it: nothing to cancel
  EXPECT_EQ(queue_.prune("", now + 1000), 1u) << "any kind: the thumbnail";
}

TEST_P(QueueTest, AWaitingWorkerWakesWhenAJobIsQueuedOnAnyHost) {
  // PostgreSQL: the job is queued through another pool (another host) and
  // reaches this one by NOTIFY; SQLite has one host per database.
  std::unique_ptr<SqlDatabase> other_db;
  std::unique_ptr<JobQueue> other;
  dicomd::JobQueue submitter = queue_;
  if (GetParam() == "postgres") {
    other_db = std::make_unique<PgDatabase>(conninfo_);
    other = std::make_unique<JobQueue>(dicomd::Host(test_api(), nullptr), *other_db);
    submitter = dicomd::JobQueue(other->vtable());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the listener connects
  }
  std::atomic<bool> woken{false};
  auto start = std::chrono::steady_clock::now();
  std::thread waiter([&] { woken = queue_.wait(20000); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  submitter.submit(job("animate"));
  waiter.join();
  EXPECT_TRUE(woken);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

INSTANTIATE_TEST_SUITE_P(Backends, QueueTest, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
