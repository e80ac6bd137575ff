// Internal to storage: what the files that implement Store (store*.cc) and merge.cc share:
// the SQL for timestamps and ids, how unknown values become NULL and back, and how SQLite's
// failures become StoreErrors that name the file.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdint>
#include <string>

#include "storage/store.h"

namespace orch::storage {

// Milliseconds: runs of a parallel sweep start and end within the same second.
inline constexpr const char* kNow = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
// Unix seconds, for heartbeats: ages are differences, which text timestamps make awkward.
inline constexpr const char* kUnixNow = "((julianday('now') - 2440587.5) * 86400.0)";
// Ids that stay unique when rows from several databases are merged into one.
inline constexpr const char* kNewUid = "lower(hex(randomblob(16)))";

// Runs body and turns SQLite failures into a StoreError that names the file and the action.
template <typename Body>
auto guarded(const std::string& path, const std::string& action, Body&& body) {
  try {
    return body();
  } catch (const SQLite::Exception& e) {
    throw StoreError("cannot " + action + " in database '" + path + "': " + e.what());
  }
}

// Optional text columns hold NULL rather than '', so `IS NULL` works in user queries.
void bind_text_or_null(SQLite::Statement& statement, int index, const std::string& text);
// Zero means "not known" for pids and batch sizes; NULL keeps it out of MIN() and IS NULL works.
void bind_positive_or_null(SQLite::Statement& statement, int index, std::int64_t value);
// NaN means "not measured" in the records and NULL in the database.
void bind_measured(SQLite::Statement& statement, int index, double value);

// NULL read back as NaN ("not measured") and as empty text.
double measured_of(const SQLite::Column& column);
std::string text_of(const SQLite::Column& column);
// runs.status read back; throws StoreError naming `path` for a word orch never writes.
RunStatus status_of(const SQLite::Column& column, const std::string& path);

// Throws StoreError naming the run when `statement` changed no row.
void expect_one_change(SQLite::Statement& statement, std::int64_t run_id, const std::string& path);

// The name of an experiment row; throws StoreError naming `path` when there is none.
std::string experiment_name_of(SQLite::Database& db, std::int64_t experiment_id,
                               const std::string& path);

// " AND e.machine_id = N" for queries that join experiments as e; "" for machine_id 0
// (every machine).
std::string machine_clause(std::int64_t machine_id);
// The machine of an experiment row; 0 when unknown.
std::int64_t machine_of_experiment(SQLite::Database& db, std::int64_t experiment_id);

// Whether a run of this key finished ok in any experiment of this name on this machine
// (0: on any machine).
bool has_ok_run(SQLite::Database& db, const std::string& experiment_name,
                const std::string& run_key, std::int64_t machine_id);

}  // namespace orch::storage
