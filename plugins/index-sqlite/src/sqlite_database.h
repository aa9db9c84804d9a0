// SqlDatabase on SQLite: one writer connection (SQLite allows one writer at
// a time anyway) and a pool of read-only connections, in WAL mode so reads
// never wait for the writer. Every statement is prepared once per
// connection and reused; values are always bound, never spliced into SQL.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sql.h"

struct sqlite3;

namespace dicomd::index {

class SqliteConnection;

class SqliteDatabase : public SqlDatabase {
 public:
  // Opens (or creates) the database at `path`. A file SQLite cannot read
  // as a database, or whose quick check fails, is set aside as
  // PATH.corrupt-N and a new one created; `on_rebuilt` is then told why.
  SqliteDatabase(std::filesystem::path path, const std::function<void(const std::string&)>& on_rebuilt);
  ~SqliteDatabase() override;

  const SqlDialect& dialect() const override;
  void write(const std::function<void(SqlSession&)>& fn) override;
  void read(const std::function<void(SqlSession&)>& fn) override;

 private:
  std::unique_ptr<SqliteConnection> open(bool writer) const;
  std::unique_ptr<SqliteConnection> take_reader();
  void give_back(std::unique_ptr<SqliteConnection> reader);

  std::filesystem::path path_;
  std::mutex write_mutex_;
  std::unique_ptr<SqliteConnection> writer_;
  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<SqliteConnection>> idle_readers_;
};

}  // namespace dicomd::index
