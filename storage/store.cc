// Opening a Store: creating or migrating the database, or opening it for reading only.
// What the Store reads and writes lives beside this file, one file per kind of record:
// store_experiments.cc, store_claims.cc, store_runs.cc, store_run_history.cc and
// store_probes.cc.
#include "storage/store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <filesystem>
#include <system_error>
#include <utility>

#include "storage/schema.h"
#include "storage/store_sql.h"

namespace orch::storage {
namespace {

// SQLite only says "unable to open database file"; say which part of the path is wrong.
std::string open_hint(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) return " (it is a directory; pass a file path with --db)";
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, ec)) {
    return " (directory '" + parent.string() + "' does not exist)";
  }
  return "";
}

}  // namespace

Store::Store(std::string path, std::unique_ptr<SQLite::Database> db)
    : path_(std::move(path)), db_(std::move(db)) {}
Store::~Store() = default;
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;

Store Store::Open(const std::string& path) {
  try {
    auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE,
                                                 kBusyTimeoutMs);
    // SQLite silently falls back to read-only; fail now rather than at the first result.
    if (sqlite3_db_readonly(db->getHandle(), "main") == 1) {
      throw StoreError("cannot open database '" + path +
                       "' for writing: the file is read-only; pass another --db");
    }
    configure_connection(*db);
    migrate(*db, path);
    return Store(path, std::move(db));
  } catch (const SQLite::Exception& e) {
    throw StoreError("cannot open database '" + path + "': " + e.what() + open_hint(path));
  }
}

std::optional<Store> Store::OpenForReading(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return std::nullopt;
  try {
    auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READONLY, kBusyTimeoutMs);
    db->setBusyTimeout(kBusyTimeoutMs);
    if (read_user_version(*db) != kSchemaVersion) return std::nullopt;
    return Store(path, std::move(db));
  } catch (const SQLite::Exception& e) {
    throw StoreError("cannot open database '" + path + "': " + e.what() + open_hint(path));
  }
}

int Store::schema_version() {
  return guarded(path_, "read the schema version", [&] { return read_user_version(*db_); });
}

}  // namespace orch::storage
