// SqlDatabase on PostgreSQL through libpq's C API: a bounded pool of
// connections, each statement sent with its values as parameters, never
// spliced into the SQL. Several dicomd hosts may share one database: the
// index serialises changes to one study with advisory locks (index_store).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sql.h"

namespace dicomd::index {

class PgConnection;

class PgDatabase : public SqlDatabase {
 public:
  // `conninfo`: a libpq connection string ("host=/run/pg dbname=dicomd").
  // Connects once at once, so a wrong string fails at start. Throws SqlError.
  // At most `max_connections` backends are open at once; a caller past them
  // waits for one, first come first served.
  explicit PgDatabase(std::string conninfo, size_t max_connections = default_connections());
  // The cores plus one: on a machine of few cores more backends only queue
  // inside PostgreSQL (and each costs a process).
  static size_t default_connections();
  ~PgDatabase() override;

  const SqlDialect& dialect() const override;
  std::vector<std::string> extra_schema() const override;
  void write(const std::function<void(SqlSession&)>& fn) override;
  void read(const std::function<void(SqlSession&)>& fn) override;
  // On a connection of its own, outside the pool.
  void listen(std::string_view channel, const std::atomic<bool>& stop, const std::function<void()>& on_notify) override;

 private:
  // fn in a transaction begun with `begin`; retried when PostgreSQL reports a
  // deadlock or a serialisation failure, which only a retry resolves.
  void transaction(const char* begin, const std::function<void(SqlSession&)>& fn);

  class Lease;
  // An idle connection, or a new one while fewer than max_connections_ are
  // open; else waits for one to come back.
  std::unique_ptr<PgConnection> take();
  // A broken connection is closed, and its place freed.
  void give_back(std::unique_ptr<PgConnection> connection);
  void free_place();

  std::string conninfo_;
  size_t max_connections_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<PgConnection>> idle_;  // guarded by mutex_
  size_t open_ = 0;                                  // idle and leased; guarded by mutex_
  uint64_t next_ticket_ = 0, serving_ticket_ = 0;    // FIFO order of takers; guarded by mutex_
};

}  // namespace dicomd::index
