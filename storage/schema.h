// Internal to storage: connection settings and schema migrations.
#pragma once

#include <string>

namespace SQLite {
class Database;
}

namespace orch::storage {

inline constexpr int kBusyTimeoutMs = 5000;

// Per-connection settings; WAL lets `orch sql` read while a run is writing.
void configure_connection(SQLite::Database& db);

int read_user_version(SQLite::Database& db);

// The SQL that takes a database from from_version to from_version + 1, so tests can build
// a database exactly as an older orch left it. Throws std::out_of_range for other versions.
const char* migration_sql(int from_version);

// Brings the database to kSchemaVersion. Throws StoreError naming path when the file
// was written by a newer orch.
void migrate(SQLite::Database& db, const std::string& path);

}  // namespace orch::storage
