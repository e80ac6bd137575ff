// ASHA's promotions (Li et al. 2018, Algorithm 2): with [search] promote = true, a run
// that falls behind at a rung is paused with its checkpoint, not stopped for good. Every
// time a worker is free, a paused run that is now among the best 1/reduction of all the
// runs that reached its rung goes on from its checkpoint, before any new point starts. A
// run that started early, when its rung held a few runs, is judged again once the rung
// holds many, so whether a configuration goes on no longer depends on when it was drawn.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "host/search/pruner.h"

namespace orch {

// A run paused at a rung: its identity (the run key), the epoch it stopped after, and its
// value of the objective's metric there (lower is better, as the pruner compares them).
struct PausedRun {
  std::string key;
  int epoch = 0;
  double value = 0;
};

// The paused runs that are now among the best 1/reduction of the runs that reached their
// rung (`reached`: every run's values by epoch, the paused ones' included), deepest rung
// first and best first within it: the order ASHA takes them up in.
std::vector<PausedRun> promotable(const PruneSettings& settings, const EpochValues& reached,
                                  const std::vector<PausedRun>& paused);

// When the search has no point left to try, nothing to promote and no run that finished:
// the best paused run of the deepest rung, which goes on so that the search ends with an
// answer. Nothing when no run is paused.
std::optional<PausedRun> leader(const std::vector<PausedRun>& paused);

}  // namespace orch
