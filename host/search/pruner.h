// Stopping runs early on the objective's per-epoch metric. A run reports its value after
// each epoch; the pruner compares it with what the other runs of the search reported at
// the same epoch and says whether it should stop. A pruned run is its own outcome,
// "pruned" with the rung and the value that pruned it, never "failed".
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace orch {

enum class PruneRule { kNone, kMedian, kAsha };

// "none", "median", "asha"
const char* prune_word(PruneRule rule);

struct PruneSettings {
  PruneRule rule = PruneRule::kNone;
  int min_epochs = 1;  // median: nothing is pruned before it; asha: the first rung
  int reduction = 3;   // asha: rungs at min_epochs x reduction^k, 1/reduction go on
  // asha: a run that falls behind at a rung is paused (its checkpoint kept), not stopped
  // for good, and goes on later when the runs after it make it one of the best
  // 1/reduction there (host/search/promotions.h). No run goes on from a rung before
  // `reduction` runs reached it.
  bool promote = false;
};

// Per epoch (1-based), the values every run of the search reported at that epoch, lower
// is better: what a pruner compares against. Runs that were pruned keep the values they
// reported.
using EpochValues = std::map<int, std::vector<double>>;

class Pruner {
 public:
  virtual ~Pruner() = default;
  // Why a run that reported `value` at `epoch` should stop, or nothing when it goes on.
  // `seen` holds what the other runs reported (not this one's `value`). The reason names
  // the epoch, the rule and ranks or counts, never the value: the caller prefixes the
  // metric's name and its real value, which is negated here when the metric is maximized.
  virtual std::optional<std::string> should_prune(const EpochValues& seen, int epoch,
                                                  double value) const = 0;
};

// The rungs of `settings` up to `epochs`: asha's min_epochs x reduction^k; every epoch
// from min_epochs on for median.
std::vector<int> rungs(const PruneSettings& settings, int epochs);

// The rungs of `settings` before the last of `epochs`: where a run can still be stopped or
// paused (a run that reaches the last epoch has finished).
std::vector<int> rungs_before_the_end(const PruneSettings& settings, int epochs);

// nullptr for PruneRule::kNone.
std::unique_ptr<Pruner> make_pruner(const PruneSettings& settings);

}  // namespace orch
