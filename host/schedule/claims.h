// Whose claims on points still count. A claim stands for an orch that is running the point;
// when that orch is gone (it exited on an error, was killed, or its machine stopped sending
// heartbeats) the claim must not keep others waiting for a point no one will finish.
#pragma once

#include <string>
#include <vector>

#include "storage/store.h"

namespace orch {

// True while a process with this pid exists on this machine.
bool process_alive(int pid);

// Drops the claims of orch processes on this host that no longer exist.
void drop_claims_of_gone_orchs(storage::Store& store, const std::string& experiment_name);

// The claims on points of `experiment_name` whose orch is alive as far as this machine can
// tell: those of exited orchs on this host are dropped first, and a claim whose orch sent
// no heartbeat within `grace_s` is left out (Store::claim_run takes such a claim over).
std::vector<storage::ClaimRecord> live_claims(storage::Store& store,
                                              const std::string& experiment_name, double grace_s);

// Drops an orch's claims when its sweep ends, also when an error ends it (a locked or full
// database, a plugin that throws), so that no other orch waits on points this one left.
class ClaimsReleaser {
 public:
  ClaimsReleaser(storage::Store& store, std::int64_t experiment_id)
      : store_(store), experiment_id_(experiment_id) {}
  ClaimsReleaser(const ClaimsReleaser&) = delete;
  ClaimsReleaser& operator=(const ClaimsReleaser&) = delete;
  ~ClaimsReleaser();

 private:
  storage::Store& store_;
  std::int64_t experiment_id_;
};

}  // namespace orch
