// The little of a SQL database the index needs, so one index (index_store.h)
// runs on SQLite and PostgreSQL alike. Statements use '?' placeholders and
// never carry a value in their text; each backend binds the values.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace dicomd::index {

// Bytes bound as a BLOB (SQLite) or bytea (PostgreSQL); the view must live
// through the statement.
struct SqlBlob {
  std::string_view bytes;
};

using SqlValue = std::variant<std::monostate, int64_t, std::string, SqlBlob>;  // NULL, integer, text, bytes

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
  // A BLOB / bytea column's bytes.
  virtual std::string blob(int column) const = 0;
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
  std::string_view blob_type;  // "BLOB" / "BYTEA"
  bool skip_locked;            // claims may say FOR UPDATE SKIP LOCKED (PostgreSQL)
  bool notifications;          // NOTIFY reaches listen() on other hosts (PostgreSQL)
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
  // Where dialect().notifications: blocks, calling on_notify for each
  // NOTIFY on `channel` (from any host), until `stop` is set; survives a
  // lost connection by reconnecting. Elsewhere returns at once.
  virtual void listen(std::string_view channel, const std::atomic<bool>& stop, const std::function<void()>& on_notify) {
    (void)channel, (void)stop, (void)on_notify;
  }
};

}  // namespace dicomd::index
