// index-postgres's connection pool on the test PostgreSQL: it never opens
// more backends than it is given, callers past them wait their turn, and
// a backend that goes away is replaced without the caller seeing it.
#include <gtest/gtest.h>

#include <mutex>
#include <stdexcept>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pg_database.h"
#include "postgres.h"

using dicomd::index::PgDatabase;
using dicomd::index::SqlRow;
using dicomd::index::SqlSession;

namespace {

int64_t backend_pid(PgDatabase& db) {
  int64_t pid = 0;
  db.read([&](SqlSession& s) { s.run("SELECT pg_backend_pid()", {}, [&](const SqlRow& r) { pid = r.integer(0); }); });
  return pid;
}

}  // namespace

TEST(PgPool, EightCallersOnTwoConnectionsUseTwoBackends) {
  PgDatabase db(dicomd::test::fresh_pg_database(), 2);
  std::mutex mutex;
  std::set<int64_t> pids;
  int answered = 0;
  std::vector<std::thread> callers;
  for (int i = 0; i < 8; ++i)
    callers.emplace_back([&] {
      for (int round = 0; round < 5; ++round) {
        int64_t pid = 0;
        // Holds its connection a while, so the callers overlap.
        db.read([&](SqlSession& s) {
          s.run("SELECT pg_backend_pid(), pg_sleep(0.01)", {}, [&](const SqlRow& r) { pid = r.integer(0); });
        });
        std::lock_guard lock(mutex);
        pids.insert(pid);
        ++answered;
      }
    });
  for (auto& t : callers) t.join();
  EXPECT_EQ(answered, 40);
  EXPECT_LE(pids.size(), 2u) << "the pool opened more backends than its size";
  EXPECT_GE(pids.size(), 1u);
}

TEST(PgPool, ATerminatedBackendIsReplaced) {
  std::string conninfo = dicomd::test::fresh_pg_database();
  PgDatabase db(conninfo, 1);
  PgDatabase admin(conninfo, 1);
  int64_t before = backend_pid(db);
  ASSERT_GT(before, 0);
  admin.read([&](SqlSession& s) { s.run("SELECT pg_terminate_backend(?::int)", {before}); });
  // The pool's one connection is dead now: the next callers, reading and
  // writing, get a new backend and no error.
  int64_t after = 0;
  ASSERT_NO_THROW(after = backend_pid(db));
  EXPECT_NE(after, before);
  admin.read([&](SqlSession& s) { s.run("SELECT pg_terminate_backend(?::int)", {after}); });
  EXPECT_NO_THROW(db.write([](SqlSession& s) { s.run("CREATE TABLE pool_probe (n INTEGER)", {}); }));
  EXPECT_NE(backend_pid(db), after);
}

// A write whose function fails for a reason of its own is rolled back, and
// its connection goes back to the pool outside any transaction.
TEST(PgPool, AFailedWriteLeavesNothingBehindOnItsConnection) {
  PgDatabase db(dicomd::test::fresh_pg_database(), 1);
  EXPECT_THROW(db.write([](SqlSession& s) {
    s.run("CREATE TABLE half_done (n INTEGER)", {});
    throw std::runtime_error("the index refused a record");
  }),
               std::runtime_error);
  int64_t tables = -1;
  db.read([&](SqlSession& s) {
    s.run("SELECT count(*) FROM pg_tables WHERE tablename = 'half_done'", {},
          [&](const SqlRow& r) { tables = r.integer(0); });
  });
  EXPECT_EQ(tables, 0);
  EXPECT_NO_THROW(db.write([](SqlSession& s) { s.run("CREATE TABLE after (n INTEGER)", {}); }));
}

TEST(PgPool, DefaultSizeIsTheCoresPlusOne) {
  EXPECT_EQ(PgDatabase::default_connections(), std::max(1u, std::thread::hardware_concurrency()) + 1);
}
