#include "storage/schema.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <stdexcept>
#include <string>

#include "storage/store.h"

namespace orch::storage {

void configure_connection(SQLite::Database& db) {
  db.setBusyTimeout(kBusyTimeoutMs);
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA journal_mode = WAL");
}

int read_user_version(SQLite::Database& db) {
  return db.execAndGet("PRAGMA user_version").getInt();
}

void migrate(SQLite::Database& db, const std::string& path) {
  if (read_user_version(db) == kSchemaVersion) return;
  // IMMEDIATE takes the write lock first, so two processes cannot both migrate.
  SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
  int version = read_user_version(db);
  if (version > kSchemaVersion) {
    throw StoreError("database '" + path + "' has schema version " + std::to_string(version) +
                     ", newer than this orch understands (" + std::to_string(kSchemaVersion) +
                     "); use a newer orch or another --db file");
  }
  for (; version < kSchemaVersion; ++version) {
    db.exec(migration_sql(version));
    db.exec("PRAGMA user_version = " + std::to_string(version + 1));
  }
  transaction.commit();
}

}  // namespace orch::storage
