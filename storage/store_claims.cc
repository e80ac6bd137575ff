// Store's claims: which orch process runs which point of a sweep, so that several orch
// processes can share one database, and a point whose orch went silent is taken over.
#include <SQLiteCpp/SQLiteCpp.h>

#include <limits>

#include "storage/store.h"
#include "storage/store_sql.h"

namespace orch::storage {
namespace {

std::string describe_orch(const std::string& hostname, int pid) {
  return "host " + (hostname.empty() ? std::string("?") : hostname) + ", pid " +
         std::to_string(pid);
}

}  // namespace

Claim Store::claim_run(std::int64_t experiment_id, const std::string& run_key, double grace_s) {
  return guarded(path_, "claim run '" + run_key + "'", [&] {
    // IMMEDIATE takes the write lock before reading, so the check and the claim are one step.
    SQLite::Transaction transaction(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    const std::string name = experiment_name_of(*db_, experiment_id, path_);
    Claim claim;
    // Per machine: the same point finished on another machine is not done on this one.
    if (has_ok_run(*db_, name, run_key, machine_of_experiment(*db_, experiment_id))) {
      claim.outcome = ClaimOutcome::kFinished;
      transaction.commit();
      return claim;
    }
    SQLite::Statement holder(
        *db_, std::string("SELECT c.experiment_id, e.hostname, e.host_pid, ") + kUnixNow +
                  " - e.heartbeat_at FROM claims c JOIN experiments e ON e.id = c.experiment_id "
                  "WHERE c.experiment_name = ? AND c.run_key = ?");
    holder.bind(1, name);
    holder.bind(2, run_key);
    if (holder.executeStep() && holder.getColumn(0).getInt64() != experiment_id) {
      const std::int64_t owner = holder.getColumn(0).getInt64();
      const std::string who =
          describe_orch(text_of(holder.getColumn(1)), holder.getColumn(2).getInt());
      const bool silent =
          holder.getColumn(3).isNull() || holder.getColumn(3).getDouble() >= grace_s;
      if (!silent) {
        claim.outcome = ClaimOutcome::kHeld;
        claim.holder = who;
        transaction.commit();
        return claim;
      }
      claim.taken_from =
          who +
          (holder.getColumn(3).isNull()
               ? std::string(", no heartbeat")
               : ", silent for " +
                     std::to_string(static_cast<long>(holder.getColumn(3).getDouble())) + " s");
      SQLite::Statement abandon(
          *db_, std::string("UPDATE runs SET status = 'interrupted', stop_layer = 'interrupt', "
                            "finished_at = ") +
                    kNow +
                    ", error = ? WHERE experiment_id = ? AND run_key = ? "
                    "AND status IN ('pending', 'running')");
      abandon.bind(1, "its orch (" + claim.taken_from +
                          ") stopped sending heartbeats; another orch took the run over");
      abandon.bind(2, owner);
      abandon.bind(3, run_key);
      abandon.exec();
    }
    SQLite::Statement insert(*db_,
                             std::string("INSERT OR REPLACE INTO claims(experiment_name, "
                                         "run_key, experiment_id, claimed_at) VALUES(?, ?, ?, ") +
                                 kNow + ")");
    insert.bind(1, name);
    insert.bind(2, run_key);
    insert.bind(3, experiment_id);
    insert.exec();
    transaction.commit();
    return claim;
  });
}

void Store::release_claim(std::int64_t experiment_id, const std::string& run_key) {
  guarded(path_, "release the claim on run '" + run_key + "'", [&] {
    SQLite::Statement remove(*db_, "DELETE FROM claims WHERE experiment_id = ? AND run_key = ?");
    remove.bind(1, experiment_id);
    remove.bind(2, run_key);
    remove.exec();
  });
}

void Store::drop_claims(std::int64_t experiment_id) {
  guarded(path_, "drop the claims of experiment " + std::to_string(experiment_id), [&] {
    SQLite::Statement remove(*db_, "DELETE FROM claims WHERE experiment_id = ?");
    remove.bind(1, experiment_id);
    remove.exec();
  });
}

std::vector<ClaimRecord> Store::claims(const std::string& experiment_name) {
  return guarded(path_, "read the claims of experiment '" + experiment_name + "'", [&] {
    SQLite::Statement query(
        *db_, std::string("SELECT c.run_key, c.experiment_id, e.hostname, e.host_pid, ") +
                  kUnixNow +
                  " - e.heartbeat_at FROM claims c JOIN experiments e "
                  "ON e.id = c.experiment_id WHERE c.experiment_name = ? ORDER BY c.rowid");
    query.bind(1, experiment_name);
    std::vector<ClaimRecord> claims;
    while (query.executeStep()) {
      ClaimRecord claim;
      claim.run_key = text_of(query.getColumn(0));
      claim.experiment_id = query.getColumn(1).getInt64();
      claim.hostname = text_of(query.getColumn(2));
      claim.host_pid = query.getColumn(3).getInt();
      claim.heartbeat_age_s = query.getColumn(4).isNull() ? std::numeric_limits<double>::infinity()
                                                          : query.getColumn(4).getDouble();
      claims.push_back(std::move(claim));
    }
    return claims;
  });
}

}  // namespace orch::storage
