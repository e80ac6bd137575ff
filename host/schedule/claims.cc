#include "host/schedule/claims.h"

#include <signal.h>

#include <cerrno>
#include <set>

#include "host/machine/machine.h"

namespace orch {

bool process_alive(int pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

bool claim_is_live(const storage::ClaimRecord& claim, double grace_s) {
  if (claim.hostname == this_hostname() && !process_alive(claim.host_pid)) return false;
  return claim.heartbeat_age_s < grace_s;
}

int drop_claims_of_gone_orchs(storage::Store& store, const std::string& experiment_name) {
  const std::string here = this_hostname();
  std::set<std::int64_t> gone;
  for (const auto& claim : store.claims(experiment_name)) {
    if (claim.hostname == here && !process_alive(claim.host_pid)) gone.insert(claim.experiment_id);
  }
  for (const std::int64_t experiment_id : gone) store.drop_claims(experiment_id);
  return static_cast<int>(gone.size());
}

ClaimsReleaser::~ClaimsReleaser() {
  try {
    store_.drop_claims(experiment_id_);
  } catch (...) {
    // The error that ended the sweep is the one to report; the claims of an orch that has
    // exited are dropped by the next orch on this host, or taken back after the grace.
  }
}

}  // namespace orch
