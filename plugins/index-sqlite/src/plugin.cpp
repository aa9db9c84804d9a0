// index-sqlite: dicomd.index on a SQLite database in the data folder — the
// default index, so search works with no set-up. The index itself (tables,
// matching, reconcile) is index-common's, shared with index-postgres.
#include <dicomd/cpp/config.hpp>
#include <dicomd/cpp/plugin.hpp>

#include <array>
#include <chrono>
#include <filesystem>
#include <memory>

#include "index_provider.h"
#include "sqlite_database.h"

namespace {

struct Settings {
  std::filesystem::path file;
  std::chrono::seconds catch_up_interval{30};
};

// {"file":"index.sqlite3" (under the data folder unless absolute),
//  "catch_up_interval_s":30}
Settings parse_settings(const std::string& data_dir, std::string_view config) {
  dicomd::PluginConfig c(config);
  std::string file = "index.sqlite3";
  c.get("file", file);
  uint64_t interval = 30;
  c.get_uint("catch_up_interval_s", interval, 1, 3600);
  c.finish();
  std::filesystem::path path(file);
  return {path.is_absolute() ? path : std::filesystem::path(data_dir) / path, std::chrono::seconds(interval)};
}

class IndexSqlitePlugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "index-sqlite";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr const char* kDescription = "the search index in a SQLite database in the data folder";
  static constexpr auto kProvides = dicomd::index::kIndexProvides;
  static constexpr auto kRequires = dicomd::index::kIndexRequires;
  static constexpr std::array<dicomd_route, 0> routes() { return {}; }

  IndexSqlitePlugin(dicomd::Host host, std::string_view config)
      : Plugin(host),
        settings_(parse_settings(host.data_dir(), config)),
        db_(settings_.file, [host](const std::string& why) { host.warn(why); }),
        index_(host, db_) {
    index_.attach(*this);
  }

  // The keys and ranges init checks, without opening the database.
  static void check_config(std::string_view config) { parse_settings("/", config); }

  void on_start() override { index_.start(settings_.catch_up_interval); }
  void on_stop() override { index_.stop_catch_up(); }

 private:
  Settings settings_;
  dicomd::index::SqliteDatabase db_;
  dicomd::index::IndexProvider index_;
};

}  // namespace

DICOMD_PLUGIN(IndexSqlitePlugin)
