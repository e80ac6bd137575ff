// Store's side of checkpoints: which attempt a checkpoint continues, the earlier epochs
// carried into the attempt that resumes it, and why a checkpoint was skipped.
#include <SQLiteCpp/SQLiteCpp.h>

#include <string>
#include <vector>

#include "storage/store.h"
#include "storage/store_sql.h"

namespace orch::storage {

std::optional<std::int64_t> Store::attempt_to_resume(const std::string& experiment_name,
                                                     const std::string& run_key) {
  return guarded(path_, "find the attempt of run " + run_key + " to resume", [&] {
    SQLite::Statement query(*db_,
                            "SELECT r.id FROM runs r JOIN experiments e ON e.id = r.experiment_id "
                            "WHERE e.name = ? AND r.run_key = ? "
                            "AND r.status IN ('interrupted', 'timeout', 'crashed', 'pruned') "
                            "AND EXISTS (SELECT 1 FROM epochs p WHERE p.run_id = r.id) "
                            "ORDER BY r.id DESC LIMIT 1");
    query.bind(1, experiment_name);
    query.bind(2, run_key);
    std::optional<std::int64_t> id;
    if (query.executeStep()) id = query.getColumn(0).getInt64();
    return id;
  });
}

int Store::resume_run(std::int64_t run_id, std::int64_t from_run_id, int epochs_done) {
  return guarded(
      path_,
      "carry the epochs of run " + std::to_string(from_run_id) + " into run " +
          std::to_string(run_id),
      [&] {
        SQLite::Transaction transaction(*db_, SQLite::TransactionBehavior::IMMEDIATE);
        // Every column as it is, whatever later migrations add, but the run and its origin.
        std::string columns;
        SQLite::Statement info(*db_, "PRAGMA table_info(epochs)");
        while (info.executeStep()) {
          const std::string name = info.getColumn(1).getString();
          if (name != "run_id" && name != "from_run_id") columns += ", " + name;
        }
        // An epoch copied twice (a resume of a resume) still names the run that measured it.
        SQLite::Statement copy(*db_, "INSERT OR REPLACE INTO epochs(run_id, from_run_id" + columns +
                                         ") SELECT ?, COALESCE(from_run_id, run_id)" + columns +
                                         " FROM epochs WHERE run_id = ? AND epoch <= ?");
        copy.bind(1, run_id);
        copy.bind(2, from_run_id);
        copy.bind(3, epochs_done);
        const int copied = copy.exec();
        SQLite::Statement update(*db_,
                                 "UPDATE runs SET resumed_from_epoch = ?, resumed_from_run_id = ? "
                                 "WHERE id = ?");
        update.bind(1, epochs_done);
        update.bind(2, from_run_id);
        update.bind(3, run_id);
        update.exec();
        expect_one_change(update, run_id, path_);
        transaction.commit();
        return copied;
      });
}

void Store::set_checkpoint_note(std::int64_t run_id, const std::string& note) {
  guarded(path_, "record the checkpoint note of run " + std::to_string(run_id), [&] {
    SQLite::Statement update(*db_, "UPDATE runs SET checkpoint_note = ? WHERE id = ?");
    if (note.empty()) {
      update.bind(1);  // NULL
    } else {
      update.bind(1, note);
    }
    update.bind(2, run_id);
    update.exec();
    expect_one_change(update, run_id, path_);
  });
}

}  // namespace orch::storage
