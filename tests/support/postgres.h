// The throwaway PostgreSQL the CTest fixture "postgres" starts
// (scripts/pg-test-server). Tests that use it fail, never skip, when it is
// not running.
#pragma once

#include <string>

namespace dicomd::test {

// The folder of the server's Unix socket. Throws when no server runs.
std::string pg_socket_dir();
// A new, empty database on it; returns its libpq connection string.
std::string fresh_pg_database();

}  // namespace dicomd::test
