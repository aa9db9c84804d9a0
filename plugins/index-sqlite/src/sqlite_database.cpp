#include "sqlite_database.h"

#include <sqlite3.h>

#include <unordered_map>

namespace dicomd::index {
namespace {

constexpr SqlDialect kDialect{"INTEGER PRIMARY KEY", false, true, "BLOB", false, false};
constexpr size_t kMaxCachedStatements = 512;  // searches vary with their filters
constexpr size_t kMaxIdleReaders = 16;

class Row : public SqlRow {
 public:
  explicit Row(sqlite3_stmt* s) : s_(s) {}
  bool is_null(int c) const override { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  int64_t integer(int c) const override { return sqlite3_column_int64(s_, c); }
  std::string_view text(int c) const override {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, c));
    return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(s_, c))) : std::string_view();
  }
  std::string blob(int c) const override {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(s_, c));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, c))) : std::string();
  }

 private:
  sqlite3_stmt* s_;
};

}  // namespace

class SqliteConnection : public SqlSession {
 public:
  SqliteConnection(const std::filesystem::path& path, bool writer) {
    int flags = (writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY) | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    try {
      if (rc != SQLITE_OK) fail(rc, "cannot open the index database");
      sqlite3_extended_result_codes(db_, 1);
      sqlite3_busy_timeout(db_, 10000);
      // LIKE is case-sensitive as DICOM matching is (names are matched on
      // their folded columns), and only then can a prefix use an index.
      execute("PRAGMA case_sensitive_like = ON");
      if (writer) {
        execute("PRAGMA journal_mode = WAL");
        // A crash after a commit keeps it (WAL); a power cut may lose the
        // last ones, which the start-up reconcile puts back from the storage.
        execute("PRAGMA synchronous = NORMAL");
      }
    } catch (...) {
      sqlite3_close_v2(db_);  // a failed constructor runs no destructor
      throw;
    }
  }
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  void execute(const char* sql) {
    char* message = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
    std::string why = message ? message : "";
    sqlite3_free(message);
    if (rc != SQLITE_OK) throw SqlError(std::string(sql) + ": " + why);
  }

  void run(std::string_view sql, const std::vector<SqlValue>& params,
           const std::function<void(const SqlRow&)>& each_row) override {
    sqlite3_stmt* s = prepare(sql);
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{s};
    for (size_t i = 0; i < params.size(); ++i) bind(s, static_cast<int>(i + 1), params[i]);
    Row row(s);
    while (true) {
      int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) return;
      if (rc != SQLITE_ROW) fail(rc, std::string(sql));
      if (each_row) each_row(row);
    }
  }

  std::string quick_check() {
    std::string verdict;
    run("PRAGMA quick_check", {}, [&](const SqlRow& r) {
      if (verdict.empty()) verdict = r.text(0);
    });
    return verdict;
  }

 private:
  [[noreturn]] void fail(int rc, const std::string& what) const {
    throw SqlError(what + ": " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc)));
  }

  sqlite3_stmt* prepare(std::string_view sql) {
    auto it = statements_.find(std::string(sql));
    if (it != statements_.end()) return it->second;
    if (statements_.size() >= kMaxCachedStatements) {
      for (auto& [text, stmt] : statements_) sqlite3_finalize(stmt);
      statements_.clear();
    }
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) fail(rc, std::string(sql));
    statements_.emplace(std::string(sql), s);
    return s;
  }

  static void bind(sqlite3_stmt* s, int i, const SqlValue& v) {
    if (std::holds_alternative<int64_t>(v)) {
      sqlite3_bind_int64(s, i, std::get<int64_t>(v));
    } else if (std::holds_alternative<std::string>(v)) {
      const auto& t = std::get<std::string>(v);
      sqlite3_bind_text(s, i, t.data(), static_cast<int>(t.size()), SQLITE_STATIC);  // lives through the step
    } else if (std::holds_alternative<SqlBlob>(v)) {
      auto b = std::get<SqlBlob>(v).bytes;
      sqlite3_bind_blob64(s, i, b.data(), b.size(), SQLITE_STATIC);
    } else {
      sqlite3_bind_null(s, i);
    }
  }

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

SqliteDatabase::SqliteDatabase(std::filesystem::path path, const std::function<void(const std::string&)>& on_rebuilt)
    : path_(std::move(path)) {
  std::string why;
  try {
    writer_ = open(true);
    if (std::string verdict = writer_->quick_check(); verdict != "ok") why = "its quick check says: " + verdict;
  } catch (const SqlError& e) {
    why = e.what();
  }
  if (why.empty()) return;
  writer_.reset();
  std::filesystem::path aside;
  for (int n = 1;; ++n) {
    aside = path_;
    aside += ".corrupt-" + std::to_string(n);
    if (!std::filesystem::exists(aside)) break;
  }
  std::filesystem::rename(path_, aside);
  for (const char* suffix : {"-wal", "-shm"}) {
    std::filesystem::path extra = path_;
    extra += suffix;
    std::filesystem::remove(extra);
  }
  writer_ = open(true);
  on_rebuilt("the index database could not be used (" + why + "); it was moved to " + aside.filename().string() +
             " and is rebuilt from the storage");
}

SqliteDatabase::~SqliteDatabase() = default;

const SqlDialect& SqliteDatabase::dialect() const {
  return kDialect;
}

std::unique_ptr<SqliteConnection> SqliteDatabase::open(bool writer) const {
  return std::make_unique<SqliteConnection>(path_, writer);
}

void SqliteDatabase::write(const std::function<void(SqlSession&)>& fn) {
  std::lock_guard lock(write_mutex_);
  writer_->execute("BEGIN IMMEDIATE");
  try {
    fn(*writer_);
    writer_->execute("COMMIT");
  } catch (...) {
    try {
      writer_->execute("ROLLBACK");
    } catch (const SqlError&) {  // SQLite may have rolled back already (a full disk)
    }
    throw;
  }
}

std::unique_ptr<SqliteConnection> SqliteDatabase::take_reader() {
  {
    std::lock_guard lock(readers_mutex_);
    if (!idle_readers_.empty()) {
      auto reader = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return reader;
    }
  }
  return open(false);
}

void SqliteDatabase::give_back(std::unique_ptr<SqliteConnection> reader) {
  std::lock_guard lock(readers_mutex_);
  if (idle_readers_.size() < kMaxIdleReaders) idle_readers_.push_back(std::move(reader));
}

void SqliteDatabase::read(const std::function<void(SqlSession&)>& fn) {
  auto reader = take_reader();  // a reader that throws is dropped, not reused
  fn(*reader);
  give_back(std::move(reader));
}

}  // namespace dicomd::index
