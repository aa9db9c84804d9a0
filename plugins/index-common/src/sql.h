// The little of a SQL database the index needs, so one index (index_store.h)
// runs on SQLite and PostgreSQL alike. Statements use '?' placeholders and
// never carry a value in their text; each backend binds the values.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace dicomd::index {

using SqlValue = std::variant<std::monostate, int64_t, std::string>;  // NULL, integer, text

struct SqlError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One result row, valid during the callback.
class SqlRow {
 public:
  virtual ~SqlRow() = default;
  virtual bool is_null(int column) const = 0;
  virtual int64_t integer(int column) const = 0;
  virtual std::string_view text(int column) const = 0;
};

// A connection inside a transaction.
class SqlSession {
 public:
  virtual ~SqlSession() = default;
  // Runs one statement; calls each_row for every row it returns. Throws SqlError.
  virtual void run(std::string_view sql, const std::vector<SqlValue>& params,
                   const std::function<void(const SqlRow&)>& each_row = {}) = 0;
};

// What differs between the backends' SQL.
struct SqlDialect {
  std::string_view id_column;  // the instances' key: "INTEGER PRIMARY KEY" / "BIGSERIAL PRIMARY KEY"
  bool lock_groups;            // serialise changes to one study across hosts (PostgreSQL)
  bool one_writer;             // writes wait for each other (SQLite): concurrent changes share transactions
};

class SqlDatabase {
 public:
  virtual ~SqlDatabase() = default;
  virtual const SqlDialect& dialect() const = 0;
  // Statements that complete the shared schema (the backend's own indexes).
  virtual std::vector<std::string> extra_schema() const { return {}; }
  // Runs fn in a read-write transaction, committed when fn returns, rolled
  // back when it throws. Writers may be serialised.
  virtual void write(const std::function<void(SqlSession&)>& fn) = 0;
  // Runs fn's statements for reading, each in its own snapshot (a search is
  // one statement: sql_builder.h). fn may run again when the connection
  // broke under it, so it starts from scratch each time.
  virtual void read(const std::function<void(SqlSession&)>& fn) = 0;
};

}  // namespace dicomd::index
