// index-postgres: dicomd.index on PostgreSQL, for several dicomd hosts that
// share one index (and one storage). The index itself is index-common's,
// the same as index-sqlite's.
#include <dicomd/cpp/config.hpp>
#include <dicomd/cpp/plugin.hpp>

#include <array>
#include <chrono>
#include <fstream>

#include "index_provider.h"
#include "pg_database.h"

namespace {

struct Settings {
  std::string conninfo;
  uint32_t connections = static_cast<uint32_t>(dicomd::index::PgDatabase::default_connections());
  std::chrono::seconds catch_up_interval{30};
};

// {"conninfo":"host=/run/postgresql dbname=dicomd"} or, to keep a password
// out of the config, {"conninfo_file":"/etc/dicomd/pg"}; "connections":N
// (default: the cores plus one),
// "catch_up_interval_s":30.
Settings parse_settings(std::string_view config) {
  dicomd::PluginConfig c(config);
  Settings s;
  std::string file;
  bool inline_info = c.get("conninfo", s.conninfo);
  bool from_file = c.get("conninfo_file", file);
  uint64_t connections = s.connections;
  if (c.get_uint("connections", connections, 1, 64)) s.connections = static_cast<uint32_t>(connections);
  uint64_t interval = 30;
  if (c.get_uint("catch_up_interval_s", interval, 1, 3600)) s.catch_up_interval = std::chrono::seconds(interval);
  c.finish();
  if (inline_info == from_file) throw dicomd::ConfigError("index-postgres needs one of conninfo or conninfo_file");
  if (from_file) {
    std::ifstream in(file);
    if (!in) throw dicomd::ConfigError("index-postgres: cannot read conninfo_file " + file);
    std::getline(in, s.conninfo);
  }
  return s;
}

class IndexPostgresPlugin : public dicomd::Plugin {
 public:
  static constexpr const char* kName = "index-postgres";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr const char* kDescription = "the search index in PostgreSQL, shared by several dicomd hosts";
  static constexpr auto kProvides = dicomd::index::kIndexProvides;
  static constexpr auto kRequires = dicomd::index::kIndexRequires;
  static constexpr std::array<dicomd_route, 0> routes() { return {}; }

  IndexPostgresPlugin(dicomd::Host host, std::string_view config) : IndexPostgresPlugin(host, parse_settings(config)) {}
  // The keys init checks, the conninfo_file read; no connection is made.
  static void check_config(std::string_view config) { parse_settings(config); }

  void on_start() override { index_.start(catch_up_interval_); }
  void on_stop() override { index_.stop_catch_up(); }

 private:
  IndexPostgresPlugin(dicomd::Host host, const Settings& s)
      : Plugin(host), catch_up_interval_(s.catch_up_interval), db_(s.conninfo, s.connections), index_(host, db_) {
    index_.attach(*this);
  }

  std::chrono::seconds catch_up_interval_;
  dicomd::index::PgDatabase db_;
  dicomd::index::IndexProvider index_;
};

}  // namespace

DICOMD_PLUGIN(IndexPostgresPlugin)
