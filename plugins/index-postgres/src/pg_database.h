// SqlDatabase on PostgreSQL through libpq's C API: a pool of connections,
// each statement sent with its values as parameters (PQexecParams), never
// spliced into the SQL. Several dicomd hosts may share one database: the
// index serialises changes to one study with advisory locks (index_store).
#pragma once

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
  explicit PgDatabase(std::string conninfo, size_t max_connections = 8);
  ~PgDatabase() override;

  const SqlDialect& dialect() const override;
  std::vector<std::string> extra_schema() const override;
  void write(const std::function<void(SqlSession&)>& fn) override;
  void read(const std::function<void(SqlSession&)>& fn) override;

 private:
  // fn in a transaction begun with `begin`; retried when PostgreSQL reports a
  // deadlock or a serialisation failure, which only a retry resolves.
  void transaction(const char* begin, const std::function<void(SqlSession&)>& fn);
  std::unique_ptr<PgConnection> take();
  void give_back(std::unique_ptr<PgConnection> connection);

  std::string conninfo_;
  size_t max_connections_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
};

}  // namespace dicomd::index
