// Which swept keys the objective depends on. For each key, the share of the objective's
// variance over the ok runs that its values explain on their own: its main effect, the
// first-order importance functional ANOVA (Hutter et al. 2014) reports, estimated by
// grouping the runs by the key's value instead of through a fitted forest. Shares are
// corrected for the spread that groups of few runs show by chance (epsilon squared), so a
// key the objective does not depend on comes out near 0 even over a handful of runs.
#pragma once

#include <string>
#include <vector>

#include "host/sweep/objective.h"
#include "storage/store.h"

namespace orch {

struct KnobImportance {
  std::string key;    // "train.lr", or a pair: "train.lr x train.optimizer"
  double share = 0;   // of the objective's variance, 0 .. 1
  size_t levels = 0;  // its distinct values, or the bins of a key with many
};

struct Importance {
  std::string metric;
  size_t runs = 0;                    // the ok runs it rests on
  std::vector<KnobImportance> knobs;  // largest share first
  // Pairs whose values together explain more than their two keys alone (an interaction:
  // sgd wants a larger lr than adam), at least kShownInteraction of the variance.
  std::vector<KnobImportance> pairs;
  std::vector<std::string> too_few_runs;  // keys with more values than the runs can judge
  std::string why_none;                   // when knobs is empty: why
};

// Numeric keys with more distinct values than this (a sampled range) are grouped into
// bins of equal counts: this many, or a third of the runs when fewer.
inline constexpr size_t kImportanceBins = 8;
inline constexpr double kShownInteraction = 0.05;

Importance knob_importance(const std::vector<storage::RunSummary>& runs,
                           const Objective& objective);

// "what val_accuracy depends on (16 ok runs; ...):" and one line per key with a bar.
std::string render_importance(const Importance& importance);

}  // namespace orch
