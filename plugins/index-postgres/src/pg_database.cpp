#include "pg_database.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <thread>
#include <unordered_map>

namespace dicomd::index {
namespace {

constexpr SqlDialect kDialect{"BIGSERIAL PRIMARY KEY", true, false, "BYTEA", true, true};
constexpr int kAttempts = 5;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// A failure only a retry of the whole transaction resolves.
struct RetryableError : SqlError {
  using SqlError::SqlError;
};

int hex_value(char h) {
  return h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10;
}

class Row : public SqlRow {
 public:
  Row(PGresult* r, int row) : r_(r), row_(row) {}
  bool is_null(int c) const override { return PQgetisnull(r_, row_, c) != 0; }
  int64_t integer(int c) const override {
    std::string_view t = text(c);
    int64_t n = 0;
    std::from_chars(t.data(), t.data() + t.size(), n);
    return n;
  }
  std::string_view text(int c) const override {
    return {PQgetvalue(r_, row_, c), static_cast<size_t>(PQgetlength(r_, row_, c))};
  }
  // Results come as text: bytea in its hex form, \x0a1b...
  std::string blob(int c) const override {
    std::string_view t = text(c);
    if (t.size() < 2 || t[0] != '\\' || t[1] != 'x') return {};
    std::string out;
    out.reserve((t.size() - 2) / 2);
    for (size_t i = 2; i + 1 < t.size(); i += 2) out += static_cast<char>(hex_value(t[i]) << 4 | hex_value(t[i + 1]));
    return out;
  }

 private:
  PGresult* r_;
  int row_;
};

// '?' placeholders as $1, $2, ... (outside quoted literals).
std::string numbered(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  bool quoted = false;
  int n = 0;
  for (char c : sql) {
    if (c == '\'') quoted = !quoted;
    if (c == '?' && !quoted) {
      out += '$';
      out += std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

class PgConnection : public SqlSession {
 public:
  explicit PgConnection(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    try {
      if (!conn_ || PQstatus(conn_) != CONNECTION_OK)
        throw SqlError("cannot connect to PostgreSQL: " + std::string(conn_ ? PQerrorMessage(conn_) : "out of memory"));
      execute("SET client_encoding = 'UTF8'");
    } catch (...) {
      PQfinish(conn_);  // a failed constructor runs no destructor
      throw;
    }
  }
  ~PgConnection() override { PQfinish(conn_); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  bool healthy() const { return PQstatus(conn_) == CONNECTION_OK; }

  void execute(const char* sql) { run(sql, {}, {}); }

  void run(std::string_view sql, const std::vector<SqlValue>& params,
           const std::function<void(const SqlRow&)>& each_row) override {
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size());
    std::vector<int> lengths(params.size()), formats(params.size());  // only read when a blob is bound
    bool binary = false;
    for (size_t i = 0; i < params.size(); ++i) {
      if (std::holds_alternative<SqlBlob>(params[i])) {  // bytea sent as binary: no hex doubling
        auto b = std::get<SqlBlob>(params[i]).bytes;
        values[i] = b.data();
        lengths[i] = static_cast<int>(b.size());
        formats[i] = 1;
        binary = true;
      } else if (std::holds_alternative<int64_t>(params[i])) {
        texts[i] = std::to_string(std::get<int64_t>(params[i]));
        values[i] = texts[i].c_str();
      } else if (std::holds_alternative<std::string>(params[i])) {
        values[i] = std::get<std::string>(params[i]).c_str();
      }  // else NULL
    }
    Result r(binary ? PQexecParams(conn_, numbered(sql).c_str(), static_cast<int>(values.size()), nullptr,
                                   values.data(), lengths.data(), formats.data(), 0)
                    : execute_with(sql, values));
    ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
      std::string why = std::string(sql) + ": " + (r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn_));
      if (state && (std::string_view(state) == "40001" || std::string_view(state) == "40P01"))
        throw RetryableError(why);
      throw SqlError(why);
    }
    if (!each_row) return;
    for (int i = 0, n = PQntuples(r.get()); i < n; ++i) each_row(Row(r.get(), i));
  }

 private:
  // The index's own statements (upserts, recomputes) are prepared once per
  // connection: parsing and planning them every time cost more than running
  // them. A search with LIKE is planned for its values each time (a prefix
  // can use an index only when the planner sees it), as are statements
  // without parameters (BEGIN, COMMIT, schema).
  PGresult* execute_with(std::string_view sql, const std::vector<const char*>& values) {
    std::string text = numbered(sql);
    int n = static_cast<int>(values.size());
    if (values.empty() || sql.find(" LIKE ") != std::string_view::npos)
      return PQexecParams(conn_, text.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0);
    auto it = prepared_.find(text);
    if (it == prepared_.end()) {
      if (prepared_.size() >= kMaxPrepared) {
        Result(PQexec(conn_, "DEALLOCATE ALL"));
        prepared_.clear();
      }
      std::string name = std::to_string(++statement_counter_);
      name.insert(0, 1, 's');  // GCC 12 warns (wrongly) on "literal" + std::string
      Result done(PQprepare(conn_, name.c_str(), text.c_str(), n, nullptr));
      if (!done || PQresultStatus(done.get()) != PGRES_COMMAND_OK)
        return PQexecParams(conn_, text.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0);  // reports why
      it = prepared_.emplace(text, std::move(name)).first;
    }
    return PQexecPrepared(conn_, it->second.c_str(), n, values.data(), nullptr, nullptr, 0);
  }

  static constexpr size_t kMaxPrepared = 256;
  PGconn* conn_;
  std::unordered_map<std::string, std::string> prepared_;  // SQL -> statement name
  uint64_t statement_counter_ = 0;
};

// A connection taken from the pool, given back when it goes out of scope.
class PgDatabase::Lease {
 public:
  explicit Lease(PgDatabase& db) : db_(db), connection_(db.take()) {}
  ~Lease() { db_.give_back(std::move(connection_)); }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  PgConnection& operator*() { return *connection_; }
  PgConnection* operator->() { return connection_.get(); }

 private:
  PgDatabase& db_;
  std::unique_ptr<PgConnection> connection_;
};

PgDatabase::PgDatabase(std::string conninfo, size_t max_connections)
    : conninfo_(std::move(conninfo)), max_connections_(std::max<size_t>(1, max_connections)) {
  Lease first(*this);  // fails now if the server is unreachable
}

PgDatabase::~PgDatabase() = default;

size_t PgDatabase::default_connections() {
  return std::max(1u, std::thread::hardware_concurrency()) + 1;
}

const SqlDialect& PgDatabase::dialect() const {
  return kDialect;
}

std::unique_ptr<PgConnection> PgDatabase::take() {
  std::unique_ptr<PgConnection> idle;
  {
    std::unique_lock lock(mutex_);
    const uint64_t ticket = next_ticket_++;
    returned_.wait(lock, [&] { return ticket == serving_ticket_ && (!idle_.empty() || open_ < max_connections_); });
    ++serving_ticket_;
    if (!idle_.empty()) {
      idle = std::move(idle_.back());
      idle_.pop_back();
    } else {
      ++open_;  // this place is ours: connect outside the lock
    }
  }
  returned_.notify_all();  // the next ticket may take what is left
  if (idle && idle->healthy()) return idle;
  idle.reset();  // a backend that went away (restart, pg_terminate_backend): its place gets a new one
  try {
    return std::make_unique<PgConnection>(conninfo_);
  } catch (...) {
    free_place();
    throw;
  }
}

void PgDatabase::give_back(std::unique_ptr<PgConnection> connection) {
  if (!connection) return;
  if (!connection->healthy()) {
    connection.reset();
    free_place();
    return;
  }
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(connection));
  }
  returned_.notify_all();
}

void PgDatabase::free_place() {
  {
    std::lock_guard lock(mutex_);
    --open_;
  }
  returned_.notify_all();
}

// A statement that failed on a connection that is no longer healthy (the
// backend was terminated, the server restarted) is tried once more on a
// new one; the index's writes are idempotent, so a commit whose answer was
// lost does no harm when repeated.
void PgDatabase::transaction(const char* begin, const std::function<void(SqlSession&)>& fn) {
  bool reconnected = false;
  for (int attempt = 1;; ++attempt) {
    Lease c(*this);
    try {
      c->execute(begin);
      fn(*c);
      c->execute("COMMIT");
      return;
    } catch (const RetryableError&) {
      c->execute("ROLLBACK");
      if (attempt >= kAttempts) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(5 * attempt));
    } catch (const SqlError&) {
      if (c->healthy()) {
        try {
          c->execute("ROLLBACK");
        } catch (const SqlError&) {  // broken after all: the lease closes it
        }
        throw;
      }
      if (reconnected) throw;
      reconnected = true;
    } catch (...) {  // fn's own failure (a record the index refuses): nothing of it stays
      try {
        c->execute("ROLLBACK");
      } catch (const SqlError&) {  // broken: the lease closes it
      }
      throw;
    }
  }
}

// Prefix matches on name components with an index whatever the database's
// collation (text_pattern_ops), and fuzzy "some word begins with" matches
// with a trigram index (pg_trgm), not a scan: a LIKE on lower(name) took
// seconds for users of other servers.
std::vector<std::string> PgDatabase::extra_schema() const {
  return {
      "CREATE EXTENSION IF NOT EXISTS pg_trgm",
      "CREATE INDEX IF NOT EXISTS person_names_family_prefix ON person_names (name_key, family text_pattern_ops)",
      "CREATE INDEX IF NOT EXISTS person_names_words_trgm ON person_names USING gin (words gin_trgm_ops)",
      "CREATE INDEX IF NOT EXISTS instances_patient_id_prefix ON instances (patient_id text_pattern_ops)",
      "CREATE INDEX IF NOT EXISTS studies_patient_id_prefix ON studies (patient_id text_pattern_ops)",
  };
}

void PgDatabase::write(const std::function<void(SqlSession&)>& fn) {
  transaction("BEGIN", fn);
}

// No transaction: each statement is its own snapshot, and a BEGIN and a
// COMMIT would cost two more round trips per search.
void PgDatabase::read(const std::function<void(SqlSession&)>& fn) {
  for (bool reconnected = false;; reconnected = true) {
    Lease c(*this);
    try {
      fn(*c);
      return;
    } catch (const SqlError&) {
      if (c->healthy() || reconnected) throw;  // else: as in transaction()
    }
  }
}

// LISTEN on a connection of its own; a lost one is replaced within a
// second, and on_notify is called after each (re)connection too, since a
// NOTIFY sent meanwhile was missed.
void PgDatabase::listen(std::string_view channel, const std::atomic<bool>& stop,
                        const std::function<void()>& on_notify) {
  auto pause = [&] {
    for (int i = 0; i < 10 && !stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  };
  while (!stop) {
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(conninfo_.c_str()), PQfinish);
    if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
      pause();
      continue;
    }
    std::string sql = "LISTEN ";
    sql += channel;  // an identifier of the caller's, never a user's
    Result listening(PQexec(conn.get(), sql.c_str()));
    if (!listening || PQresultStatus(listening.get()) != PGRES_COMMAND_OK) {
      pause();
      continue;
    }
    on_notify();
    while (!stop && PQstatus(conn.get()) == CONNECTION_OK) {
      pollfd ready{PQsocket(conn.get()), POLLIN, 0};
      int n = ::poll(&ready, 1, 250);  // a quarter of a second to notice `stop`
      if (n < 0 && errno != EINTR) break;
      if (n <= 0) continue;
      if (!PQconsumeInput(conn.get())) break;
      bool notified = false;
      while (PGnotify* note = PQnotifies(conn.get())) {
        PQfreemem(note);
        notified = true;
      }
      if (notified) on_notify();
    }
  }
}

}  // namespace dicomd::index
