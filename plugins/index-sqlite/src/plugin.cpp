// index-sqlite: dicomd.index on a SQLite database in the data folder — the
// default index, so search works with no set-up. The index itself (tables,
// matching, reconcile) is index-common's, shared with index-postgres.
#include <dicomd/cpp/config.hpp>
#include <dicomd/cpp/plugin.hpp>

#include <array>
#include <filesystem>
#include <memory>

#include "index_provider.h"
#include "sqlite_database.h"

namespace {

std::filesystem::path database_path(const dicomd::Host& host, std::string_view config) {
  dicomd::PluginConfig c(config);
  std::string file = "index.sqlite3";
  c.get("file", file);
  c.finish();
  std::filesystem::path path(file);
  return path.is_absolute() ? path : std::filesystem::path(host.data_dir()) / path;
}

class IndexSqlitePlugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "index-sqlite";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr const char* kDescription = "the search index in a SQLite database in the data folder";
  static constexpr std::array kProvides{dicomd_service_ref{DICOMD_INDEX_SERVICE, 1, 0}};
  static constexpr std::array kRequires{dicomd_service_ref{DICOMD_STORAGE_SERVICE, 1, 0},
                                        dicomd_service_ref{DICOMD_METADATA_SERVICE, 1, 0}};
  static constexpr std::array<dicomd_route, 0> routes() { return {}; }

  IndexSqlitePlugin(dicomd::Host host, std::string_view config)
      : Plugin(host),
        db_(database_path(host, config), [host](const std::string& why) { host.warn(why); }),
        index_(host, db_) {
    host.provide(DICOMD_INDEX_SERVICE, 1, index_.vtable());
    subscribe("stored", [this](const dicomd::Event& e) { index_.on_stored(e); });
    subscribe("removed", [this](const dicomd::Event& e) { index_.on_removed(e); });
  }

  // Files stored while no index ran (a kill -9 between store and index, a
  // copy into the data folder) become searchable; rows of gone files go.
  void on_start() override {
    auto r = index_.run_reconcile(false, nullptr, nullptr);
    if (r.indexed || r.removed)
      host().info("reconciled with the storage: " + std::to_string(r.checked) + " files, " + std::to_string(r.indexed) +
                  " indexed, " + std::to_string(r.removed) + " rows removed");
  }

 private:
  dicomd::index::SqliteDatabase db_;
  dicomd::index::IndexProvider index_;
};

}  // namespace

DICOMD_PLUGIN(IndexSqlitePlugin)
