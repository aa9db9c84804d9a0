// The index itself, on any SqlDatabase: an instances table with every search
// key as a column, series and studies tables derived from it (their counts
// and lists kept per value in group_counts, changed by each instance change
// in the same transaction), and the folded components of every person name. Shared by index-sqlite and
// index-postgres, so both answer every query the same way.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "search_query.h"
#include "sql.h"

namespace dicomd::index {

struct InstanceRecord {
  std::string study, file, content_hash;
  std::string attributes_json;  // {"PatientID":"...",...}: describe()'s values by keyword
};

class IndexStore {
 public:
  explicit IndexStore(SqlDatabase& db);

  // Creates the tables when they are missing. Throws SqlError.
  void create_schema();

  // Throws QueryError (attributes not a JSON object) or SqlError. Any
  // thread: calls made at once share a transaction (group commit), and
  // each throws only for its own change.
  void upsert(const InstanceRecord& record);
  void upsert_batch(const std::vector<InstanceRecord>& records);  // one transaction
  void remove(std::string_view study, std::string_view file);
  void clear();

  // {"level","total","offset","limit","results":[...]}. Throws QueryError.
  std::string search(const SearchQuery& query);
  uint64_t count();
  // (study, file) -> content hash of every indexed instance.
  std::map<std::pair<std::string, std::string>, std::string> indexed();

 private:
  // One caller's change, waiting for the transaction that runs it.
  struct Change {
    explicit Change(std::function<void(SqlSession&)> fn) : run(std::move(fn)) {}
    std::function<void(SqlSession&)> run;
    bool done = false;         // guarded by batch_mutex_
    std::exception_ptr error;  // set before done
  };
  void apply(Change& change);
  void run_batch(const std::vector<Change*>& batch);

  // The groups an instance is in, and the name of the dicomd study that
  // holds it: what it adds to its series' and study's counts.
  struct Membership {
    std::string study_uid, series_uid, modality, study_name;
  };

  void upsert_in(SqlSession& s, const InstanceRecord& record);
  void remove_in(SqlSession& s, std::string_view study, std::string_view file);
  void lock(SqlSession& s, std::string_view what);
  std::pair<int64_t, Membership> find_instance(SqlSession& s, std::string_view study, std::string_view file);
  void count(SqlSession& s, const Membership& m, int64_t delta);
  void refresh_groups(SqlSession& s, int64_t id, const Membership& old, const Membership& now);
  void refresh_group(SqlSession& s, Level level, const std::string& uid, int64_t changed_id);
  std::optional<std::pair<int64_t, std::string>> reset_group(SqlSession& s, Level level, const std::string& uid);
  void insert_group(SqlSession& s, Level level, int64_t rep, const std::string& attrs);
  std::string group_attrs(SqlSession& s, Level level, const std::string& uid, std::string_view rep_attrs);

  SqlDatabase& db_;
  std::mutex batch_mutex_;
  std::condition_variable batch_done_;
  std::vector<Change*> pending_;  // guarded by batch_mutex_
  bool leading_ = false;          // a transaction of changes runs; guarded by batch_mutex_
};

}  // namespace dicomd::index
