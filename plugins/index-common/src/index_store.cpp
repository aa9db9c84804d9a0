#include "index_store.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <set>

#include <dicomd/cpp/json.hpp>

#include "fold.h"
#include "sql_builder.h"

namespace dicomd::index {
namespace {

// Tables of another version are dropped and rebuilt (the index is derived).
constexpr int64_t kSchemaVersion = 4;
constexpr const char* kTables[] = {"group_counts", "person_names", "studies", "series", "instances"};

// What a series or study row counts or lists, kept per value in
// group_counts so that a file coming or going changes a few rows instead
// of counting the group's instances again (a CT series of 600 slices made
// every upsert scan the series four times).
enum CountKind : int64_t { kInstanceCount = 0, kStudyNames = 1, kSeriesUids = 2, kModalities = 3 };

bool is_name_key(const SearchKey& k) {
  return k.keyword == "study" || k.keyword == "file";
}

// The search keys stored as columns of their own (not study/file, which
// every instance row has anyway, nor ModalitiesInStudy, which is derived).
std::vector<const SearchKey*> column_keys(Level up_to) {
  std::vector<const SearchKey*> out;
  for (const auto& k : search_keys())
    if (!k.column.empty() && !is_name_key(k) && k.level <= up_to) out.push_back(&k);
  return out;
}

std::string column_list(const std::vector<const SearchKey*>& keys, std::string_view prefix = "") {
  std::string out;
  for (const auto* k : keys) out += (out.empty() ? "" : ", ") + std::string(prefix) + std::string(k->column);
  return out;
}

std::string placeholders(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += i ? ", ?" : "?";
  return out;
}

std::string json_of(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

// One value as matched text: a string as is, a number in decimal, a list
// joined with '\' as DICOM writes multiple values.
std::string text_of(const rapidjson::Value& v) {
  if (v.IsString()) return {v.GetString(), v.GetStringLength()};
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsNumber()) return json_of(v);
  if (v.IsArray()) {
    std::string out;
    for (size_t i = 0; i < v.Size(); ++i) {
      if (i) out += '\\';
      out += text_of(v[static_cast<rapidjson::SizeType>(i)]);
    }
    return out;
  }
  return "";
}

SqlValue column_value(const SearchKey& key, const rapidjson::Value* v) {
  if (!v || v->IsNull()) return {};
  if (key.match == Match::kInteger) {
    const rapidjson::Value& one = v->IsArray() && !v->Empty() ? (*v)[0] : *v;
    if (one.IsInt64()) return one.GetInt64();
    std::string text = text_of(one);
    int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return {};
    return n;
  }
  std::string text = text_of(*v);
  while (!text.empty() && text.back() == ' ') text.pop_back();
  if (text.empty()) return {};
  return text;
}

// Each PN value of `v` (a string or a list of them).
std::vector<std::string> person_names(const rapidjson::Value* v) {
  std::vector<std::string> out;
  if (!v) return out;
  if (v->IsString()) out.emplace_back(v->GetString(), v->GetStringLength());
  if (v->IsArray())
    for (const auto& item : v->GetArray())
      if (item.IsString()) out.emplace_back(item.GetString(), item.GetStringLength());
  return out;
}

// {"study":..., "file":..., then each key the file has, as given}.
std::string instance_attrs(const InstanceRecord& r, const rapidjson::Document& attrs) {
  JsonWriter w;
  w.start_object().key("study").string(r.study).key("file").string(r.file);
  for (const auto& k : search_keys()) {
    if (k.column.empty() || is_name_key(k)) continue;
    auto it = attrs.FindMember(rapidjson::StringRef(k.keyword.data(), k.keyword.size()));
    if (it == attrs.MemberEnd() || it->value.IsNull()) continue;
    w.key(k.keyword).raw(json_of(it->value));
  }
  w.end_object();
  return std::string(w.text());
}

// The members of an instance's attrs that belong to `keys`, in order.
void copy_members(JsonWriter& w, std::string_view instance_attrs_json, const std::vector<std::string_view>& keys) {
  rapidjson::Document d;
  d.Parse(instance_attrs_json.data(), instance_attrs_json.size());
  if (!d.IsObject()) return;
  // Const iterators: clang (C++20) finds comparing RapidJSON's mutable
  // member iterators ambiguous.
  const rapidjson::Document& object = d;
  for (auto key : keys) {
    auto it = object.FindMember(rapidjson::StringRef(key.data(), key.size()));
    if (it != object.MemberEnd()) w.key(key).raw(json_of(it->value));
  }
}

std::vector<std::string_view> keywords_of(Level level, bool with_study_uid) {
  std::vector<std::string_view> out;
  for (const auto& k : search_keys())
    if (k.level == level && !k.column.empty()) out.push_back(k.keyword);
  if (with_study_uid) out.insert(out.begin(), "StudyInstanceUID");
  return out;
}

std::string text_column(const SqlRow& row, int i) {
  return row.is_null(i) ? std::string() : std::string(row.text(i));
}

}  // namespace

IndexStore::IndexStore(SqlDatabase& db) : db_(db) {}

void IndexStore::create_schema() {
  auto columns = [](Level up_to) {
    std::string out;
    for (const auto* k : column_keys(up_to))
      out += std::string(k->column) + (k->match == Match::kInteger ? " BIGINT, " : " TEXT, ");
    return out;
  };
  std::string id(db_.dialect().id_column);
  db_.write([&](SqlSession& s) {
    lock(s, "schema");  // two hosts starting at once on one database
    // The index is derived from the storage: tables of another layout are
    // dropped, and the start-up reconcile fills the new ones.
    s.run("CREATE TABLE IF NOT EXISTS index_schema (version INTEGER NOT NULL)", {});
    int64_t version = -1;
    s.run("SELECT version FROM index_schema", {}, [&](const SqlRow& row) { version = row.integer(0); });
    if (version != kSchemaVersion) {
      for (const char* table : kTables) s.run(std::string("DROP TABLE IF EXISTS ") + table, {});
      s.run("DELETE FROM index_schema", {});
      s.run("INSERT INTO index_schema (version) VALUES (?)", {kSchemaVersion});
    }
    s.run("CREATE TABLE IF NOT EXISTS instances (id " + id +
              ", study TEXT NOT NULL, file TEXT NOT NULL, content_hash TEXT NOT NULL, " + columns(Level::kInstance) +
              "attrs TEXT NOT NULL, UNIQUE (study, file))",
          {});
    s.run("CREATE TABLE IF NOT EXISTS series (rep_id BIGINT NOT NULL, " + columns(Level::kSeries) +
              "attrs TEXT NOT NULL, PRIMARY KEY (series_uid))",
          {});
    s.run("CREATE TABLE IF NOT EXISTS studies (rep_id BIGINT NOT NULL, " + columns(Level::kStudy) +
              "attrs TEXT NOT NULL, PRIMARY KEY (study_uid))",
          {});
    s.run(
        "CREATE TABLE IF NOT EXISTS group_counts (level INTEGER NOT NULL, uid TEXT NOT NULL, kind INTEGER NOT NULL, "
        "value TEXT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (level, uid, kind, value))",
        {});
    s.run(
        "CREATE TABLE IF NOT EXISTS person_names (level INTEGER NOT NULL, owner_id BIGINT NOT NULL, "
        "name_key TEXT NOT NULL, "
        "grp INTEGER NOT NULL, family TEXT NOT NULL, given TEXT NOT NULL, middle TEXT NOT NULL, "
        "prefix TEXT NOT NULL, suffix TEXT NOT NULL, words TEXT NOT NULL)",
        {});
    // What the queries filter and join on most; the rest scan the derived
    // tables, which are 20-100 times smaller than instances.
    const char* indexes[] = {
        // With the id: a group's first instance (its representative) is
        // found without a sort.
        "instances_study_uid ON instances (study_uid, id)",
        "instances_series_uid ON instances (series_uid, id)",
        "instances_sop ON instances (sop_instance_uid)",
        "instances_patient_id ON instances (patient_id)",
        "instances_study_date ON instances (study_date)",
        "instances_accession ON instances (accession_number)",
        "series_study_uid ON series (study_uid)",
        "series_study_date ON series (study_date)",
        "series_rep ON series (rep_id)",
        "studies_rep ON studies (rep_id)",
        "studies_patient_id ON studies (patient_id)",
        "studies_study_date ON studies (study_date)",
        "studies_accession ON studies (accession_number)",
        // owner and level both: with level alone in front, SQLite (no
        // statistics) took the name index for "level = 2 AND owner_id = ?",
        // scanning every instance's name row on each upsert.
        "person_names_owner ON person_names (owner_id, level)",
        "person_names_family ON person_names (level, name_key, family)",
    };
    for (const char* index : indexes) s.run(std::string("CREATE INDEX IF NOT EXISTS ") + index, {});
    for (const auto& statement : db_.extra_schema()) s.run(statement, {});
  });
}

void IndexStore::lock(SqlSession& s, std::string_view what) {
  if (db_.dialect().lock_groups) s.run("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", {std::string(what)});
}

void IndexStore::upsert(const InstanceRecord& record) {
  Change c([&](SqlSession& s) { upsert_in(s, record); });
  apply(c);
}

// Group commit, on a database of one writer (SQLite): a change that arrives
// while another transaction runs waits, and the changes that gathered
// meanwhile run together in the next one. The writes of a transaction (the
// WAL pages of instances, their eight indexes, group_counts, the series and
// study rows) are mostly the same pages for slices of one series, so several
// changes cost little more than one; and a caller waits for one transaction,
// not for a queue of them. PostgreSQL runs transactions side by side on its
// pool's connections, and one of many changes would hold every study lock of
// its batch (two hosts' batches could then deadlock): a transaction each.
void IndexStore::apply(Change& change) {
  if (!db_.dialect().one_writer) {
    db_.write(change.run);
    return;
  }
  std::unique_lock lock(batch_mutex_);
  pending_.push_back(&change);
  while (!change.done) {
    if (leading_) {
      batch_done_.wait(lock);
      continue;
    }
    leading_ = true;
    std::vector<Change*> batch;
    batch.swap(pending_);
    lock.unlock();
    run_batch(batch);
    lock.lock();
    leading_ = false;
    for (Change* c : batch) c->done = true;
    batch_done_.notify_all();
  }
  if (change.error) std::rethrow_exception(change.error);
}

// One transaction for all; when it fails, each change alone, so that one bad
// change (attributes that are not JSON, a row the database refuses) fails
// only its own caller.
void IndexStore::run_batch(const std::vector<Change*>& batch) {
  try {
    db_.write([&](SqlSession& s) {
      for (Change* c : batch) c->run(s);
    });
    return;
  } catch (...) {
    if (batch.size() == 1) {
      batch[0]->error = std::current_exception();
      return;
    }
  }
  for (Change* c : batch) {
    try {
      db_.write([&](SqlSession& s) { c->run(s); });
    } catch (...) {
      c->error = std::current_exception();
    }
  }
}

void IndexStore::upsert_batch(const std::vector<InstanceRecord>& records) {
  db_.write([&](SqlSession& s) {
    for (const auto& r : records) upsert_in(s, r);
  });
}

void IndexStore::upsert_in(SqlSession& s, const InstanceRecord& r) {
  rapidjson::Document attrs;
  attrs.Parse(r.attributes_json.data(), r.attributes_json.size());
  if (attrs.HasParseError() || !attrs.IsObject()) throw QueryError("attributes must be a JSON object");
  const rapidjson::Document& object = attrs;  // const iterators (see copy_members)
  auto member = [&](std::string_view keyword) -> const rapidjson::Value* {
    auto it = object.FindMember(rapidjson::StringRef(keyword.data(), keyword.size()));
    return it == object.MemberEnd() ? nullptr : &it->value;
  };

  auto keys = column_keys(Level::kInstance);
  std::vector<SqlValue> values{r.content_hash};
  for (const auto* k : keys) values.push_back(column_value(*k, member(k->keyword)));
  values.emplace_back(instance_attrs(r, attrs));
  // values: content_hash, then one per key, then attrs.
  auto text_value = [&](std::string_view keyword) {
    for (size_t i = 0; i < keys.size(); ++i)
      if (keys[i]->keyword == keyword && std::holds_alternative<std::string>(values[i + 1]))
        return std::get<std::string>(values[i + 1]);
    return std::string();
  };
  const Membership now{text_value("StudyInstanceUID"), text_value("SeriesInstanceUID"), text_value("Modality"),
                       r.study};

  lock(s, r.study + "/" + r.file);
  auto found = find_instance(s, r.study, r.file);
  int64_t id = found.first;  // not a structured binding: a lambda below sets it
  const Membership& old = found.second;
  std::set<std::string> studies{old.study_uid, now.study_uid};
  studies.erase("");
  for (const auto& uid : studies) lock(s, "study/" + uid);  // sorted: no two writers wait on each other in a cycle

  if (id >= 0) {
    std::string set = "content_hash = ?";
    for (const auto* k : keys) set += ", " + std::string(k->column) + " = ?";
    values.emplace_back(id);
    s.run("UPDATE instances SET " + set + ", attrs = ? WHERE id = ?", values);
    s.run("DELETE FROM person_names WHERE level = 2 AND owner_id = ?", {id});
    count(s, old, -1);
  } else {
    values.insert(values.begin(), {r.study, r.file});
    s.run("INSERT INTO instances (study, file, content_hash, " + column_list(keys) + ", attrs) VALUES (" +
              placeholders(values.size()) + ") RETURNING id",
          values, [&](const SqlRow& row) { id = row.integer(0); });
  }

  for (const auto* k : keys) {
    if (k->match != Match::kPersonName) continue;
    int64_t group = 0;
    for (const auto& name : person_names(member(k->keyword))) {
      for (const auto& c : person_name_groups(name)) {
        std::string words;
        for (const auto& component : c)
          if (!component.empty()) words += " " + component;
        s.run(
            "INSERT INTO person_names (level, owner_id, name_key, grp, family, given, middle, prefix, suffix, "
            "words) VALUES (2, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {id, std::string(k->keyword), group++, c[0], c[1], c[2], c[3], c[4], words});
      }
    }
  }
  count(s, now, +1);
  refresh_groups(s, id, old, now);
}

void IndexStore::remove(std::string_view study, std::string_view file) {
  Change c([&](SqlSession& s) { remove_in(s, study, file); });
  apply(c);
}

void IndexStore::remove_in(SqlSession& s, std::string_view study, std::string_view file) {
  lock(s, std::string(study) + "/" + std::string(file));
  auto [id, old] = find_instance(s, study, file);
  if (id < 0) return;
  if (!old.study_uid.empty()) lock(s, "study/" + old.study_uid);
  s.run("DELETE FROM person_names WHERE level = 2 AND owner_id = ?", {id});
  s.run("DELETE FROM instances WHERE id = ?", {id});
  count(s, old, -1);
  refresh_groups(s, id, old, {});
}

// The id of study/file's row (-1 when there is none) and the groups it is in.
std::pair<int64_t, IndexStore::Membership> IndexStore::find_instance(SqlSession& s, std::string_view study,
                                                                     std::string_view file) {
  int64_t id = -1;
  Membership m{"", "", "", std::string(study)};
  s.run("SELECT id, study_uid, series_uid, modality FROM instances WHERE study = ? AND file = ?",
        {std::string(study), std::string(file)}, [&](const SqlRow& row) {
          id = row.integer(0);
          m.study_uid = text_column(row, 1);
          m.series_uid = text_column(row, 2);
          m.modality = text_column(row, 3);
        });
  return {id, std::move(m)};
}

namespace {

// The derived table of a level (series or studies) and its key column.
struct GroupTable {
  const char* table;
  const char* uid_column;
};
GroupTable group_table(Level level) {
  return level == Level::kSeries ? GroupTable{"series", "series_uid"} : GroupTable{"studies", "study_uid"};
}

// head + the level's table + between + " WHERE " + its key column + " = ?".
// Built by appending: GCC 12 warns (wrongly) on chains of string + literal.
std::string on_group(const char* head, Level level, const char* between = "") {
  auto g = group_table(level);
  std::string sql = head;
  sql.append(g.table).append(between).append(" WHERE ").append(g.uid_column).append(" = ?");
  return sql;
}

}  // namespace

// Adds `delta` (1 or -1) to what an instance counts in its series and study.
void IndexStore::count(SqlSession& s, const Membership& m, int64_t delta) {
  auto add = [&](Level level, const std::string& uid, CountKind kind, const std::string& value) {
    std::vector<SqlValue> key{static_cast<int64_t>(level), uid, static_cast<int64_t>(kind), value};
    if (delta > 0) {
      key.emplace_back(delta);
      s.run(
          "INSERT INTO group_counts (level, uid, kind, value, n) VALUES (?, ?, ?, ?, ?) "
          "ON CONFLICT (level, uid, kind, value) DO UPDATE SET n = group_counts.n + excluded.n",
          key);
      return;
    }
    std::vector<SqlValue> update{delta};
    update.insert(update.end(), key.begin(), key.end());
    s.run("UPDATE group_counts SET n = n + ? WHERE level = ? AND uid = ? AND kind = ? AND value = ?", update);
    s.run("DELETE FROM group_counts WHERE level = ? AND uid = ? AND kind = ? AND value = ? AND n <= 0", key);
  };
  if (!m.series_uid.empty()) {
    add(Level::kSeries, m.series_uid, kInstanceCount, "");
    add(Level::kSeries, m.series_uid, kStudyNames, m.study_name);
  }
  if (!m.study_uid.empty()) {
    add(Level::kStudy, m.study_uid, kInstanceCount, "");
    add(Level::kStudy, m.study_uid, kStudyNames, m.study_name);
    if (!m.series_uid.empty()) add(Level::kStudy, m.study_uid, kSeriesUids, m.series_uid);
    if (!m.modality.empty()) add(Level::kStudy, m.study_uid, kModalities, m.modality);
  }
}

// The series and study rows of the groups instance `id` left or joined.
void IndexStore::refresh_groups(SqlSession& s, int64_t id, const Membership& old, const Membership& now) {
  std::set<std::string> series{old.series_uid, now.series_uid}, studies{old.study_uid, now.study_uid};
  for (const auto& uid : series)
    if (!uid.empty()) refresh_group(s, Level::kSeries, uid, id);
  for (const auto& uid : studies)
    if (!uid.empty()) refresh_group(s, Level::kStudy, uid, id);
}

// A group's row keeps the keys of its representative, its first instance
// still indexed. While that is not the instance that changed, only the
// row's counts and lists are written again; else the row is made anew from
// the group's first instance, or dropped with the group's last one.
void IndexStore::refresh_group(SqlSession& s, Level level, const std::string& uid, int64_t changed_id) {
  std::optional<int64_t> rep;
  s.run(on_group("SELECT rep_id FROM ", level), {uid}, [&](const SqlRow& r) { rep = r.integer(0); });
  if (rep && *rep != changed_id) {
    std::string rep_attrs;
    s.run("SELECT attrs FROM instances WHERE id = ?", {*rep}, [&](const SqlRow& r) { rep_attrs = r.text(0); });
    s.run(on_group("UPDATE ", level, " SET attrs = ?"), {group_attrs(s, level, uid, rep_attrs), uid});
    return;
  }
  auto first = reset_group(s, level, uid);
  if (!first) {
    s.run("DELETE FROM group_counts WHERE level = ? AND uid = ?", {static_cast<int64_t>(level), uid});
    return;
  }
  insert_group(s, level, first->first, group_attrs(s, level, uid, first->second));
}

// Drops the row of a series (study) and its name rows; returns its first
// instance (id and attrs), or nullopt when none is left.
std::optional<std::pair<int64_t, std::string>> IndexStore::reset_group(SqlSession& s, Level level,
                                                                       const std::string& uid) {
  auto g = group_table(level);
  std::string names = "DELETE FROM person_names WHERE level = ? AND owner_id IN (";
  names.append(on_group("SELECT rep_id FROM ", level)).append(")");
  s.run(names, {static_cast<int64_t>(level), uid});
  s.run(on_group("DELETE FROM ", level), {uid});
  std::string first = "SELECT id, attrs FROM instances WHERE ";
  first.append(g.uid_column).append(" = ? ORDER BY id LIMIT 1");
  std::optional<std::pair<int64_t, std::string>> rep;
  s.run(first, {uid}, [&](const SqlRow& r) { rep.emplace(r.integer(0), std::string(r.text(1))); });
  return rep;
}

// The row of a series (study) copied from its representative instance, with
// `attrs` as its result, and the instance's name rows again for it: a name
// search at that level then looks at one row per study (series), not at
// every instance's.
void IndexStore::insert_group(SqlSession& s, Level level, int64_t rep, const std::string& attrs) {
  std::string columns = column_list(column_keys(level));
  std::string insert = "INSERT INTO ";
  insert.append(group_table(level).table).append(" (rep_id, ").append(columns).append(", attrs) SELECT id, ");
  insert.append(columns).append(", ? FROM instances WHERE id = ?");
  s.run(insert, {attrs, rep});
  s.run(
      "INSERT INTO person_names (level, owner_id, name_key, grp, family, given, middle, prefix, suffix, words) "
      "SELECT ?, owner_id, name_key, grp, family, given, middle, prefix, suffix, words FROM person_names "
      "WHERE level = 2 AND owner_id = ?",
      {static_cast<int64_t>(level), rep});
}

// A series (study) result: its representative's keys of that level, then
// its counts and lists from group_counts, the lists in byte order.
std::string IndexStore::group_attrs(SqlSession& s, Level level, const std::string& uid, std::string_view rep_attrs) {
  int64_t instances = 0;
  std::vector<std::string> names, series, modalities;
  s.run("SELECT kind, value, n FROM group_counts WHERE level = ? AND uid = ?", {static_cast<int64_t>(level), uid},
        [&](const SqlRow& row) {
          switch (row.integer(0)) {
            case kInstanceCount:
              instances = row.integer(2);
              break;
            case kStudyNames:
              names.emplace_back(row.text(1));
              break;
            case kSeriesUids:
              series.emplace_back(row.text(1));
              break;
            case kModalities:
              modalities.emplace_back(row.text(1));
              break;
          }
        });
  std::sort(names.begin(), names.end());
  std::sort(modalities.begin(), modalities.end());
  JsonWriter w;
  w.start_object();
  copy_members(w, rep_attrs, keywords_of(level, level == Level::kSeries));
  if (level == Level::kSeries) {
    w.key("NumberOfSeriesRelatedInstances").integer(instances);
  } else {
    w.key("ModalitiesInStudy").strings(modalities);
    w.key("NumberOfStudyRelatedSeries").integer(static_cast<int64_t>(series.size()));
    w.key("NumberOfStudyRelatedInstances").integer(instances);
  }
  w.key("studies").strings(names).end_object();
  return std::string(w.text());
}

void IndexStore::clear() {
  db_.write([&](SqlSession& s) {
    for (const char* table : kTables) s.run(std::string("DELETE FROM ") + table, {});
  });
}

std::string IndexStore::search(const SearchQuery& query) {
  SearchSql sql = build_search_sql(query);
  int64_t total = 0;
  std::string results;
  db_.read([&](SqlSession& s) {
    results.clear();
    total = 0;
    bool any = false;
    s.run(sql.page, sql.page_params, [&](const SqlRow& row) {
      results += any ? "," : "";
      results += row.text(0);
      total = row.integer(1);
      any = true;
    });
    if (!any) s.run(sql.count, sql.count_params, [&](const SqlRow& row) { total = row.integer(0); });
  });
  JsonWriter w;
  w.start_object().key("level").string(level_name(query.level)).key("total").integer(total);
  w.key("offset").uint(query.offset).key("limit").uint(query.limit).key("results").raw("[" + results + "]");
  w.end_object();
  return std::string(w.text());
}

uint64_t IndexStore::count() {
  int64_t n = 0;
  db_.read(
      [&](SqlSession& s) { s.run("SELECT count(*) FROM instances", {}, [&](const SqlRow& r) { n = r.integer(0); }); });
  return static_cast<uint64_t>(n);
}

std::map<std::pair<std::string, std::string>, std::string> IndexStore::indexed() {
  std::map<std::pair<std::string, std::string>, std::string> out;
  db_.read([&](SqlSession& s) {
    s.run("SELECT study, file, content_hash FROM instances", {}, [&](const SqlRow& row) {
      out.emplace(std::pair{std::string(row.text(0)), std::string(row.text(1))}, std::string(row.text(2)));
    });
  });
  return out;
}

}  // namespace dicomd::index
