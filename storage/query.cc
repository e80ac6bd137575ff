#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <system_error>

#include "storage/schema.h"
#include "storage/store.h"

namespace orch::storage {
namespace {

CellKind kind_of(const SQLite::Column& column) {
  switch (column.getType()) {
    case SQLITE_NULL:
      return CellKind::kNull;
    case SQLITE_INTEGER:
      return CellKind::kInteger;
    case SQLITE_FLOAT:
      return CellKind::kReal;
    case SQLITE_BLOB:
      return CellKind::kBlob;
    default:
      return CellKind::kText;
  }
}

std::string cell_text(const SQLite::Column& column, bool exact_reals) {
  switch (column.getType()) {
    case SQLITE_NULL:
      return "NULL";
    case SQLITE_INTEGER:
      return std::to_string(column.getInt64());
    case SQLITE_FLOAT: {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, exact_reals ? "%.17g" : "%.6g", column.getDouble());
      return buffer;
    }
    case SQLITE_BLOB:
      return "<blob " + std::to_string(column.getBytes()) + " bytes>";
    default:
      return column.getString();
  }
}

struct StatementDeleter {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using RawStatement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

RawStatement prepare(sqlite3* db, const char* sql, const char** tail) {
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &statement, tail) != SQLITE_OK) {
    throw SQLite::Exception(db, sqlite3_errcode(db));
  }
  return RawStatement(statement);
}

// SQLiteCpp ignores text after the first statement; refuse it instead of silently dropping it.
// Also refuses writes before they run, with a clearer message than SQLite's.
void check_single_read(sqlite3* db, const std::string& sql, const std::string& path) {
  const char* tail = nullptr;
  RawStatement first = prepare(db, sql.c_str(), &tail);
  if (!first) throw StoreError("query failed: the SQL is empty");
  if (!sqlite3_stmt_readonly(first.get())) {
    throw StoreError("query refused: database '" + path +
                     "' is opened read-only and this statement would write to it");
  }
  while (tail && *tail) {
    if (prepare(db, tail, &tail)) {
      throw StoreError("query failed: only one SQL statement is allowed, found more after ';'");
    }
  }
}

}  // namespace

QueryResult query_read_only(const std::string& path, const std::string& sql, bool exact_reals) {
  std::unique_ptr<SQLite::Database> db;
  try {
    db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READONLY, kBusyTimeoutMs);
    db->exec("PRAGMA query_only = ON");
  } catch (const SQLite::Exception& e) {
    std::error_code ec;
    const bool missing = !std::filesystem::exists(path, ec);
    throw StoreError("cannot open database '" + path + "': " + e.what() +
                     (missing ? " (does the file exist? run `orch run FILE` first)" : ""));
  }
  try {
    check_single_read(db->getHandle(), sql, path);
    SQLite::Statement statement(*db, sql);
    QueryResult result;
    for (int i = 0; i < statement.getColumnCount(); ++i) {
      result.columns.emplace_back(statement.getColumnName(i));
    }
    while (statement.executeStep()) {
      std::vector<std::string> row;
      std::vector<CellKind> kinds;
      row.reserve(result.columns.size());
      kinds.reserve(result.columns.size());
      for (int i = 0; i < statement.getColumnCount(); ++i) {
        row.push_back(cell_text(statement.getColumn(i), exact_reals));
        kinds.push_back(kind_of(statement.getColumn(i)));
      }
      result.rows.push_back(std::move(row));
      result.kinds.push_back(std::move(kinds));
    }
    return result;
  } catch (const SQLite::Exception& e) {
    if (e.getErrorCode() == SQLITE_READONLY) {
      throw StoreError("query refused: database '" + path + "' is opened read-only: " + e.what());
    }
    throw StoreError("query failed on '" + path + "': " + e.what());
  }
}

}  // namespace orch::storage
