#include "host/schedule/claims.h"

#include <signal.h>

#include <cerrno>
#include <set>

#include "host/machine/machine.h"

namespace orch {

bool process_alive(int pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

namespace {

// The experiment rows of claiming orch processes on this host that no longer exist,
// whose claims are dropped.
std::set<std::int64_t> drop_gone(storage::Store& store,
                                 const std::vector<storage::ClaimRecord>& claims) {
  const std::string here = this_hostname();
  std::set<std::int64_t> gone;
  for (const auto& claim : claims) {
    if (claim.hostname == here && !process_alive(claim.host_pid)) gone.insert(claim.experiment_id);
  }
  for (const std::int64_t experiment_id : gone) store.drop_claims(experiment_id);
  return gone;
}

}  // namespace

void drop_claims_of_gone_orchs(storage::Store& store, const std::string& experiment_name) {
  drop_gone(store, store.claims(experiment_name));
}

std::vector<storage::ClaimRecord> live_claims(storage::Store& store,
                                              const std::string& experiment_name, double grace_s) {
  std::vector<storage::ClaimRecord> claims = store.claims(experiment_name);
  const std::set<std::int64_t> gone = drop_gone(store, claims);
  std::vector<storage::ClaimRecord> live;
  for (auto& claim : claims) {
    if (gone.count(claim.experiment_id) == 0 && claim.heartbeat_age_s < grace_s) {
      live.push_back(std::move(claim));
    }
  }
  return live;
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
