#include "postgres.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <stdexcept>

namespace dicomd::test {

std::string pg_socket_dir() {
  std::ifstream state(DICOMD_TEST_PG_STATE);
  std::string dir;
  if (!std::getline(state, dir) || dir.empty())
    throw std::runtime_error(
        "no test PostgreSQL runs (CTest fixture \"postgres\", scripts/pg-test-server); state file " +
        std::string(DICOMD_TEST_PG_STATE));
  return dir;
}

std::string fresh_pg_database() {
  static std::atomic<int> counter{0};
  std::string host = "host=" + pg_socket_dir() + " user=postgres";
  std::string name = std::to_string(::getpid());  // GCC 12 warns (wrongly) on "literal" + std::string
  name.insert(0, 1, 't');
  name += '_';
  name += std::to_string(counter++);
  PGconn* admin = PQconnectdb((host + " dbname=postgres").c_str());
  if (PQstatus(admin) != CONNECTION_OK) {
    std::string why = PQerrorMessage(admin);
    PQfinish(admin);
    throw std::runtime_error("cannot reach the test PostgreSQL: " + why);
  }
  PGresult* r = PQexec(admin, ("CREATE DATABASE " + name).c_str());
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string why = PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(admin);
  if (!ok) throw std::runtime_error("CREATE DATABASE failed: " + why);
  return host + " dbname=" + name;
}

}  // namespace dicomd::test
