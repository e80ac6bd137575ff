// Store's machines: the row each sweep's machine gets, found by name and fingerprint, so
// that one history can hold the same sweep measured on several machines.
#include <SQLiteCpp/SQLiteCpp.h>

#include "storage/store.h"
#include "storage/store_sql.h"

namespace orch::storage {
namespace {

std::int64_t find_machine(SQLite::Database& db, const std::string& name,
                          const std::string& fingerprint) {
  SQLite::Statement query(db, "SELECT id FROM machines WHERE name = ? AND fingerprint = ?");
  query.bind(1, name);
  query.bind(2, fingerprint);
  return query.executeStep() ? query.getColumn(0).getInt64() : 0;
}

// A machine recorded before schema 11 on this host with the same hardware becomes this
// machine: its runs were measured here, and a resumed sweep should skip them.
void adopt_recorded_machine(SQLite::Database& db, const MachineRecord& machine) {
  if (machine.recorded_key.empty()) return;
  SQLite::Statement recorded(db, "SELECT id FROM machines WHERE fingerprint = ?");
  recorded.bind(1, machine.recorded_key);
  if (!recorded.executeStep()) return;
  const std::int64_t old_id = recorded.getColumn(0).getInt64();
  const std::int64_t current = find_machine(db, machine.name, machine.fingerprint);
  if (current != 0) {
    SQLite::Statement move(db, "UPDATE experiments SET machine_id = ? WHERE machine_id = ?");
    move.bind(1, current);
    move.bind(2, old_id);
    move.exec();
    SQLite::Statement drop(db, "DELETE FROM machines WHERE id = ?");
    drop.bind(1, old_id);
    drop.exec();
    return;
  }
  SQLite::Statement adopt(db,
                          "UPDATE machines SET fingerprint = ?, name = ?, facts = ? WHERE id = ?");
  adopt.bind(1, machine.fingerprint);
  adopt.bind(2, machine.name);
  bind_text_or_null(adopt, 3, machine.facts_json);
  adopt.bind(4, old_id);
  adopt.exec();
}

// The facts in which two machines differ, "cores: 4 here, 8 recorded", for the refusal.
std::string differing_facts(SQLite::Database& db, const std::string& here,
                            const std::string& recorded) {
  if (here.empty() || recorded.empty()) return "its facts were not recorded";
  SQLite::Statement diff(db,
                         "SELECT a.key, a.value, b.value FROM json_each(?) a "
                         "LEFT JOIN json_each(?) b ON b.key = a.key "
                         "WHERE json_valid(?) AND json_valid(?) AND a.value IS NOT b.value");
  diff.bind(1, here);
  diff.bind(2, recorded);
  diff.bind(3, here);
  diff.bind(4, recorded);
  std::string text;
  while (diff.executeStep()) {
    text += (text.empty() ? "" : "; ") + text_of(diff.getColumn(0)) + ": " +
            text_of(diff.getColumn(1)) + " here, " +
            (diff.getColumn(2).isNull() ? std::string("none") : text_of(diff.getColumn(2))) +
            " recorded";
  }
  return text.empty() ? "another fingerprint" : text;
}

}  // namespace

std::int64_t Store::machine_id(const MachineRecord& machine) {
  return guarded(path_, "record machine '" + machine.name + "'", [&] {
    SQLite::Transaction transaction(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    adopt_recorded_machine(*db_, machine);
    std::int64_t id = find_machine(*db_, machine.name, machine.fingerprint);
    if (id == 0 && machine.named_by_user) {
      SQLite::Statement other(
          *db_, "SELECT facts FROM machines WHERE name = ? AND fingerprint != ? LIMIT 1");
      other.bind(1, machine.name);
      other.bind(2, machine.fingerprint);
      if (other.executeStep()) {
        throw StoreError("database '" + path_ + "' already has a machine named '" + machine.name +
                         "' with other facts (" +
                         differing_facts(*db_, machine.facts_json, text_of(other.getColumn(0))) +
                         "); its timings would be mixed with this machine's: pass another "
                         "--machine NAME, or leave --machine out to use the default name");
      }
    }
    if (id == 0) {
      SQLite::Statement insert(*db_, std::string("INSERT INTO machines(fingerprint, name, facts, "
                                                 "created_at) VALUES(?, ?, ?, ") +
                                         kNow + ")");
      insert.bind(1, machine.fingerprint);
      insert.bind(2, machine.name);
      bind_text_or_null(insert, 3, machine.facts_json);
      insert.exec();
      id = db_->getLastInsertRowid();
    }
    transaction.commit();
    return id;
  });
}

std::vector<MachineRow> Store::machines() {
  return guarded(path_, "read the machines", [&] {
    SQLite::Statement query(*db_, "SELECT id, fingerprint, name, facts FROM machines ORDER BY id");
    std::vector<MachineRow> rows;
    while (query.executeStep()) {
      rows.push_back({query.getColumn(0).getInt64(), text_of(query.getColumn(1)),
                      text_of(query.getColumn(2)), text_of(query.getColumn(3))});
    }
    return rows;
  });
}

std::int64_t Store::latest_machine_id(const std::string& experiment_name) {
  return guarded(path_, "read the machine of experiment '" + experiment_name + "'", [&] {
    SQLite::Statement query(
        *db_, "SELECT machine_id FROM experiments WHERE name = ? ORDER BY id DESC LIMIT 1");
    query.bind(1, experiment_name);
    if (!query.executeStep() || query.getColumn(0).isNull()) return std::int64_t{0};
    return query.getColumn(0).getInt64();
  });
}

}  // namespace orch::storage
