#include "job_queue.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <vector>

#include <dicomd/cpp/json.hpp>

namespace dicomd::index {
namespace {

constexpr std::string_view kChannel = "dicomd_jobs";
constexpr uint32_t kMaxListed = 1000;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The columns get and list show, in this order.
constexpr std::string_view kShownColumns =
    "id, kind, state, progress, attempts, max_attempts, error, owner, created, started, finished, result_type, "
    "result_size, token, completions";

void write_shown(const SqlRow& r, JsonWriter& w) {
  w.key("id").integer(r.integer(0)).key("kind").string(r.text(1)).key("state").string(r.text(2));
  w.key("progress").integer(r.integer(3)).key("attempts").integer(r.integer(4));
  w.key("max_attempts").integer(r.integer(5)).key("error").string(r.text(6)).key("owner").string(r.text(7));
  w.key("created").integer(r.integer(8)).key("started").integer(r.integer(9)).key("finished").integer(r.integer(10));
  w.key("result_type").string(r.text(11)).key("result_size").integer(r.integer(12));
  // The result's strong validator: the job and the claim that made it.
  w.key("result_tag")
      .string(r.text(2) == "done" ? std::to_string(r.integer(0)) + "-" + std::to_string(r.integer(13)) : std::string());
  w.key("completions").integer(r.integer(14));
}

void write_to(dicomd_sink out, std::string_view text) {
  out.write(out.ctx, text.data(), text.size());
}

const char* text_or(const rapidjson::Value& o, const char* name, const char* fallback) {
  auto it = o.FindMember(name);
  if (it == o.MemberEnd()) return fallback;
  if (!it->value.IsString()) throw ServiceError(DICOMD_E_INVALID, std::string(name) + " must be a string");
  return it->value.GetString();
}

int64_t int_or(const rapidjson::Value& o, const char* name, int64_t fallback, int64_t min, int64_t max) {
  auto it = o.FindMember(name);
  if (it == o.MemberEnd()) return fallback;
  if (!it->value.IsInt64() || it->value.GetInt64() < min || it->value.GetInt64() > max)
    throw ServiceError(DICOMD_E_INVALID, std::string(name) + " is out of range");
  return it->value.GetInt64();
}

}  // namespace

JobQueue::JobQueue(Host host, SqlDatabase& db)
    : host_(host),
      db_(db),
      vtable_{sizeof(dicomd_jobqueue_v1),
              this,
              dicomd::service<&JobQueue::submit>,
              dicomd::service<&JobQueue::claim>,
              dicomd::service<&JobQueue::renew>,
              dicomd::service<&JobQueue::complete>,
              dicomd::service<&JobQueue::fail>,
              dicomd::service<&JobQueue::get>,
              dicomd::service<&JobQueue::result>,
              dicomd::service<&JobQueue::cancel>,
              dicomd::service<&JobQueue::cancel_source>,
              dicomd::service<&JobQueue::list>,
              dicomd::service<&JobQueue::counts>,
              dicomd::service<&JobQueue::wait>,
              dicomd::service<&JobQueue::wake_all>,
              dicomd::service<&JobQueue::prune>} {}

JobQueue::~JobQueue() {
  stopping_ = true;
  wake_all();
  if (listener_.joinable()) listener_.join();
}

// `due`: when a queued job may be claimed, or when a running job's lease
// ends. `token` grows with each claim: only the current one may end the job.
void JobQueue::create_schema() {
  const auto& d = db_.dialect();
  std::vector<std::string> schema{
      "CREATE TABLE IF NOT EXISTS jobs (id " + std::string(d.id_column) +
          ", kind TEXT NOT NULL, dedup_key TEXT NOT NULL, params TEXT NOT NULL, priority INTEGER NOT NULL, "
          "state TEXT NOT NULL, attempts INTEGER NOT NULL, max_attempts INTEGER NOT NULL, due BIGINT NOT NULL, "
          "token BIGINT NOT NULL, owner TEXT NOT NULL, progress INTEGER NOT NULL, error TEXT NOT NULL, "
          "created BIGINT NOT NULL, started BIGINT NOT NULL, finished BIGINT NOT NULL, "
          "completions INTEGER NOT NULL, result_type TEXT NOT NULL, result_size BIGINT NOT NULL, result " +
          std::string(d.blob_type) + ")",
      "CREATE INDEX IF NOT EXISTS jobs_due ON jobs (state, priority, id)",
      "CREATE INDEX IF NOT EXISTS jobs_key ON jobs (dedup_key)",
      "CREATE TABLE IF NOT EXISTS job_sources (job_id BIGINT NOT NULL, study TEXT NOT NULL, file TEXT NOT NULL)",
      "CREATE INDEX IF NOT EXISTS job_sources_file ON job_sources (study, file)",
      "CREATE INDEX IF NOT EXISTS job_sources_job ON job_sources (job_id)",
  };
  db_.write([&](SqlSession& s) {
    if (d.lock_groups) s.run("SELECT pg_advisory_xact_lock(hashtextextended('dicomd jobs schema', 0))", {});
    for (const auto& sql : schema) s.run(sql, {});
  });
  if (d.notifications && !listener_.joinable())
    listener_ = std::thread([this] { db_.listen(kChannel, stopping_, [this] { woken(); }); });
}

void JobQueue::announce(SqlSession& session) {
  if (db_.dialect().notifications) session.run("NOTIFY " + std::string(kChannel), {});
  woken();
}

void JobQueue::woken() {
  {
    std::lock_guard lock(wake_mutex_);
    ++wake_count_;
  }
  wake_.notify_all();
}

dicomd_status JobQueue::submit(dicomd_str job_json, dicomd_sink out) {
  rapidjson::Document d;
  d.Parse(job_json.ptr, job_json.len);
  if (d.HasParseError() || !d.IsObject()) throw ServiceError(DICOMD_E_INVALID, "the job is not a JSON object");
  std::string kind = text_or(d, "kind", "");
  std::string key = text_or(d, "key", "");
  if (kind.empty()) throw ServiceError(DICOMD_E_INVALID, "the job has no kind");
  int64_t priority = int_or(d, "priority", 0, -1000, 1000);
  int64_t max_attempts = int_or(d, "max_attempts", 3, 1, 100);
  std::string params = "{}";
  if (d.HasMember("params")) {
    if (!d["params"].IsObject()) throw ServiceError(DICOMD_E_INVALID, "params must be an object");
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    d["params"].Accept(writer);
    params.assign(buffer.GetString(), buffer.GetSize());
  }
  std::vector<std::pair<std::string, std::string>> sources;
  if (d.HasMember("sources")) {
    if (!d["sources"].IsArray()) throw ServiceError(DICOMD_E_INVALID, "sources must be an array");
    for (const auto& s : d["sources"].GetArray()) {
      if (!s.IsArray() || s.Size() != 2 || !s[0].IsString() || !s[1].IsString())
        throw ServiceError(DICOMD_E_INVALID, "a source is [study, file]");
      sources.emplace_back(s[0].GetString(), s[1].GetString());
    }
  }
  int64_t id = 0;
  bool created = false;
  db_.write([&](SqlSession& s) {
    id = 0;
    created = false;
    if (!key.empty()) {
      // Two hosts submitting one key at once: the second waits and finds it.
      if (db_.dialect().lock_groups) s.run("SELECT pg_advisory_xact_lock(hashtextextended(?, 1))", {key});
      s.run(
          "SELECT id FROM jobs WHERE dedup_key = ? AND state IN ('queued', 'running', 'done') "
          "ORDER BY id DESC LIMIT 1",
          {key}, [&](const SqlRow& r) { id = r.integer(0); });
      if (id) return;
    }
    int64_t now = now_ms();
    s.run(
        "INSERT INTO jobs (kind, dedup_key, params, priority, state, attempts, max_attempts, due, token, owner, "
        "progress, error, created, started, finished, completions, result_type, result_size) "
        "VALUES (?, ?, ?, ?, 'queued', 0, ?, ?, 0, '', 0, '', ?, 0, 0, 0, '', 0) RETURNING id",
        {kind, key, params, priority, max_attempts, now, now}, [&](const SqlRow& r) { id = r.integer(0); });
    for (const auto& [study, file] : sources)
      s.run("INSERT INTO job_sources (job_id, study, file) VALUES (?, ?, ?)", {id, study, file});
    created = true;
    announce(s);
  });
  JsonWriter w;
  w.start_object().key("id").integer(id).key("created").boolean(created).end_object();
  write_to(out, w.text());
  return DICOMD_OK;
}

dicomd_status JobQueue::claim(dicomd_str owner, uint32_t lease_ms, dicomd_sink out) {
  std::string claimed;
  const bool skip_locked = db_.dialect().skip_locked;
  db_.write([&](SqlSession& s) {
    claimed.clear();
    int64_t now = now_ms();
    // A job whose worker stopped (kill -9, power) on its last attempt: one
    // more would likely stop this worker too.
    s.run(
        "UPDATE jobs SET state = 'failed', due = 0, finished = ?, "
        "error = 'its worker stopped before finishing, on every attempt' "
        "WHERE state = 'running' AND due <= ? AND attempts >= max_attempts",
        {now, now});
    std::string pick =
        "SELECT id FROM jobs WHERE state IN ('queued', 'running') AND due <= ? ORDER BY priority, id LIMIT 1";
    if (skip_locked) pick += " FOR UPDATE SKIP LOCKED";
    s.run(
        "UPDATE jobs SET state = 'running', owner = ?, token = token + 1, due = ?, attempts = attempts + 1, "
        "started = ?, progress = 0 WHERE id = (" +
            pick + ") RETURNING id, kind, params, attempts, token",
        {std::string(view(owner)), now + lease_ms, now, now}, [&](const SqlRow& r) {
          JsonWriter w;
          w.start_object().key("id").integer(r.integer(0)).key("kind").string(r.text(1));
          w.key("params").raw(r.text(2)).key("attempt").integer(r.integer(3));
          w.key("token").integer(r.integer(4)).end_object();
          claimed = w.text();
        });
  });
  if (claimed.empty()) return DICOMD_E_NOT_FOUND;
  write_to(out, claimed);
  return DICOMD_OK;
}

dicomd_status JobQueue::renew(uint64_t id, uint64_t token, uint32_t progress, uint32_t lease_ms) {
  bool ours = false;
  db_.write([&](SqlSession& s) {
    ours = false;
    s.run("UPDATE jobs SET due = ?, progress = ? WHERE id = ? AND token = ? AND state = 'running' RETURNING id",
          {now_ms() + lease_ms, static_cast<int64_t>(std::min<uint32_t>(progress, 1000)), static_cast<int64_t>(id),
           static_cast<int64_t>(token)},
          [&](const SqlRow&) { ours = true; });
  });
  return ours ? DICOMD_OK : DICOMD_E_NOT_FOUND;
}

dicomd_status JobQueue::complete(uint64_t id, uint64_t token, dicomd_str content_type, dicomd_str result) {
  bool ours = false;
  db_.write([&](SqlSession& s) {
    ours = false;
    s.run(
        "UPDATE jobs SET state = 'done', due = 0, progress = 1000, error = '', finished = ?, "
        "completions = completions + 1, result_type = ?, result_size = ?, result = ? "
        "WHERE id = ? AND token = ? AND state = 'running' RETURNING id",
        {SqlValue(now_ms()), std::string(view(content_type)), static_cast<int64_t>(result.len), SqlBlob{view(result)},
         static_cast<int64_t>(id), static_cast<int64_t>(token)},
        [&](const SqlRow&) { ours = true; });
  });
  return ours ? DICOMD_OK : DICOMD_E_NOT_FOUND;
}

dicomd_status JobQueue::fail(uint64_t id, uint64_t token, dicomd_str reason, uint32_t retry_after_ms, int32_t release) {
  bool ours = false;
  int64_t now = now_ms();
  std::vector<SqlValue> where{static_cast<int64_t>(id), static_cast<int64_t>(token)};
  db_.write([&](SqlSession& s) {
    ours = false;
    auto mark = [&](const SqlRow&) { ours = true; };
    if (release && !retry_after_ms) {
      s.run(
          "UPDATE jobs SET state = 'queued', due = ?, attempts = attempts - 1, owner = '' "
          "WHERE id = ? AND token = ? AND state = 'running' RETURNING id",
          {now, where[0], where[1]}, mark);
    } else {
      int64_t attempts = 0, max_attempts = 0;
      s.run(std::string("SELECT attempts, max_attempts FROM jobs WHERE id = ? AND token = ? AND state = 'running'") +
                (db_.dialect().skip_locked ? " FOR UPDATE" : ""),
            where, [&](const SqlRow& r) {
              ours = true;
              attempts = r.integer(0);
              max_attempts = r.integer(1);
            });
      if (!ours) return;
      if (retry_after_ms > 0 && attempts < max_attempts)
        s.run("UPDATE jobs SET state = 'queued', due = ?, error = ? WHERE id = ?",
              {now + retry_after_ms, std::string(view(reason)), where[0]});
      else
        s.run("UPDATE jobs SET state = 'failed', due = 0, finished = ?, error = ? WHERE id = ?",
              {now, std::string(view(reason)), where[0]});
    }
    if (ours) announce(s);
  });
  return ours ? DICOMD_OK : DICOMD_E_NOT_FOUND;
}

dicomd_status JobQueue::get(uint64_t id, dicomd_sink out) {
  std::string json;
  db_.read([&](SqlSession& s) {
    json.clear();
    s.run("SELECT " + std::string(kShownColumns) + ", params FROM jobs WHERE id = ?", {static_cast<int64_t>(id)},
          [&](const SqlRow& r) {
            JsonWriter w;
            w.start_object();
            write_shown(r, w);
            w.key("params").raw(r.text(15)).end_object();
            json = w.text();
          });
  });
  if (json.empty()) return DICOMD_E_NOT_FOUND;
  write_to(out, json);
  return DICOMD_OK;
}

dicomd_status JobQueue::result(uint64_t id, dicomd_str key, dicomd_sink content_type, dicomd_sink body) {
  bool found = false;
  std::string type, bytes;
  db_.read([&](SqlSession& s) {
    found = false;
    auto take = [&](const SqlRow& r) {
      found = true;
      type = r.text(0);
      bytes = r.blob(1);
    };
    if (id)
      s.run("SELECT result_type, result FROM jobs WHERE id = ? AND state = 'done' AND result IS NOT NULL",
            {static_cast<int64_t>(id)}, take);
    else
      s.run(
          "SELECT result_type, result FROM jobs WHERE dedup_key = ? AND state = 'done' AND result IS NOT NULL "
          "ORDER BY id DESC LIMIT 1",
          {std::string(view(key))}, take);
  });
  if (!found) return DICOMD_E_NOT_FOUND;
  write_to(content_type, type);
  write_to(body, bytes);
  return DICOMD_OK;
}

dicomd_status JobQueue::cancel(uint64_t id) {
  bool found = false;
  db_.write([&](SqlSession& s) {
    found = false;
    auto mark = [&](const SqlRow&) { found = true; };
    s.run(
        "UPDATE jobs SET state = 'cancelled', due = 0, finished = ?, error = 'cancelled' "
        "WHERE id = ? AND state IN ('queued', 'running') RETURNING id",
        {now_ms(), static_cast<int64_t>(id)}, mark);
    if (found) return;
    s.run("DELETE FROM jobs WHERE id = ? RETURNING id", {static_cast<int64_t>(id)}, mark);
    s.run("DELETE FROM job_sources WHERE job_id = ?", {static_cast<int64_t>(id)});
  });
  return found ? DICOMD_OK : DICOMD_E_NOT_FOUND;
}

dicomd_status JobQueue::cancel_source(dicomd_str study, dicomd_str file, dicomd_str drop_kind, dicomd_str reason,
                                      dicomd_sink out) {
  uint64_t changed = 0;
  std::string why(view(reason));
  // Most stored files are new, and no job reads them yet: a read says so
  // without taking SQLite's one writer from the index.
  bool read_by_a_job = false;
  db_.read([&](SqlSession& s) {
    s.run("SELECT 1 FROM job_sources WHERE study = ? AND file = ? LIMIT 1",
          {std::string(view(study)), std::string(view(file))}, [&](const SqlRow&) { read_by_a_job = true; });
  });
  if (!read_by_a_job) {
    write_to(out, "0");
    return DICOMD_OK;
  }
  db_.write([&](SqlSession& s) {
    changed = 0;
    std::vector<std::pair<int64_t, bool>> done;  // id, to drop
    std::vector<int64_t> pending;
    s.run(
        "SELECT j.id, j.state, j.kind FROM jobs j JOIN job_sources s ON s.job_id = j.id "
        "WHERE s.study = ? AND s.file = ? AND j.state IN ('queued', 'running', 'done')",
        {std::string(view(study)), std::string(view(file))}, [&](const SqlRow& r) {
          if (r.text(1) == "done")
            done.emplace_back(r.integer(0), r.text(2) == view(drop_kind));
          else
            pending.push_back(r.integer(0));
        });
    int64_t now = now_ms();
    for (int64_t id : pending)
      s.run("UPDATE jobs SET state = 'cancelled', due = 0, finished = ?, error = ? WHERE id = ?", {now, why, id});
    for (auto [id, drop] : done) {
      if (drop) {
        s.run("DELETE FROM jobs WHERE id = ?", {id});
        s.run("DELETE FROM job_sources WHERE job_id = ?", {id});
      } else {
        s.run(
            "UPDATE jobs SET state = 'cancelled', error = ?, result = NULL, result_size = 0, result_type = '' "
            "WHERE id = ?",
            {why, id});
      }
    }
    changed = pending.size() + done.size();
  });
  write_to(out, std::to_string(changed));
  return DICOMD_OK;
}

dicomd_status JobQueue::list(dicomd_str kind, dicomd_str state, uint32_t limit, dicomd_sink out) {
  std::string sql = "SELECT " + std::string(kShownColumns) + " FROM jobs";
  std::vector<SqlValue> params;
  if (kind.len) params.emplace_back(std::string(view(kind)));
  if (state.len) params.emplace_back(std::string(view(state)));
  if (kind.len && state.len)
    sql += " WHERE kind = ? AND state = ?";
  else if (kind.len)
    sql += " WHERE kind = ?";
  else if (state.len)
    sql += " WHERE state = ?";
  sql += " ORDER BY id DESC LIMIT ?";
  params.emplace_back(static_cast<int64_t>(std::min(limit, kMaxListed)));
  std::string json;
  db_.read([&](SqlSession& s) {
    JsonWriter w;
    w.start_object().key("jobs").start_array();
    s.run(sql, params, [&](const SqlRow& r) {
      w.start_object();
      write_shown(r, w);
      w.end_object();
    });
    w.end_array().end_object();
    json = w.text();
  });
  write_to(out, json);
  return DICOMD_OK;
}

dicomd_status JobQueue::counts(dicomd_sink out) {
  int64_t n[5] = {};
  constexpr std::string_view kStates[5] = {"queued", "running", "done", "failed", "cancelled"};
  db_.read([&](SqlSession& s) {
    for (auto& v : n) v = 0;
    s.run("SELECT state, COUNT(*) FROM jobs GROUP BY state", {}, [&](const SqlRow& r) {
      for (int i = 0; i < 5; ++i)
        if (r.text(0) == kStates[i]) n[i] = r.integer(1);
    });
  });
  JsonWriter w;
  w.start_object();
  for (int i = 0; i < 5; ++i) w.key(kStates[i]).integer(n[i]);
  w.end_object();
  write_to(out, w.text());
  return DICOMD_OK;
}

int32_t JobQueue::wait(uint32_t timeout_ms) {
  std::unique_lock lock(wake_mutex_);
  uint64_t seen = wake_count_;
  return wake_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return wake_count_ != seen || stopping_; })
             ? 1
             : 0;
}

dicomd_status JobQueue::prune(dicomd_str kind, int64_t finished_before_ms, dicomd_sink out) {
  uint64_t forgotten = 0;
  db_.write([&](SqlSession& s) {
    forgotten = 0;
    std::string which = "state IN ('done', 'failed', 'cancelled') AND finished > 0 AND finished < ?";
    std::vector<SqlValue> params{finished_before_ms};
    if (kind.len) {
      which += " AND kind = ?";
      params.emplace_back(std::string(view(kind)));
    }
    s.run("DELETE FROM job_sources WHERE job_id IN (SELECT id FROM jobs WHERE " + which + ")", params);
    s.run("DELETE FROM jobs WHERE " + which + " RETURNING id", params, [&](const SqlRow&) { ++forgotten; });
  });
  write_to(out, std::to_string(forgotten));
  return DICOMD_OK;
}

void JobQueue::wake_all() {
  woken();
}

}  // namespace dicomd::index
