// The index itself, on any SqlDatabase: an instances table with every search
// key as a column, series and studies tables derived from it (recomputed for
// the groups an instance change touches, in the same transaction), and the
// folded components of every person name. Shared by index-sqlite and
// index-postgres, so both answer every query the same way.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

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

  // Throws QueryError (attributes not a JSON object) or SqlError.
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
  void upsert_in(SqlSession& s, const InstanceRecord& record);
  void remove_in(SqlSession& s, std::string_view study, std::string_view file);
  void lock(SqlSession& s, std::string_view what);
  void recompute_series(SqlSession& s, const std::string& series_uid);
  void recompute_study(SqlSession& s, const std::string& study_uid);
  std::optional<std::pair<int64_t, std::string>> reset_group(SqlSession& s, Level level, const std::string& uid);
  void insert_group(SqlSession& s, Level level, int64_t rep, const std::string& attrs);

  SqlDatabase& db_;
};

}  // namespace dicomd::index
