// Expands an experiment into its runs: the cartesian product of the [sweep] axes (a list,
// a range or a [[sweep.zip]] group each), in file order with the last axis varying
// fastest, less the combinations [[sweep.exclude]] rules remove, all of it repeated
// `repeats` times. Each run's sections are resolved for the plugins it uses.
#pragma once

#include <string>
#include <vector>

#include "host/experiment.h"
#include "host/run_spec.h"

namespace orch {

// A product larger than this is refused: it is a mistake, not a plan (a plan of 100000
// runs takes about 1 GB and 15 s to expand).
inline constexpr size_t kMaxCombinations = 100000;

// How the product came to its runs, for `orch plan`.
struct SweepCounts {
  size_t combinations = 1;                // the product of the axes
  std::vector<size_t> excluded_by_rule;   // combinations each rule matches, in rule order
  size_t excluded = 0;                    // combinations some rule matches
  size_t duplicates = 0;                  // the same resolved parameters as an earlier one
  size_t configurations() const { return combinations - excluded - duplicates; }
};

struct SweepPlan {
  std::vector<RunSpec> runs;
  SweepCounts counts;
  std::vector<std::string> warnings;  // a rule that removes nothing
};

// Throws UserError when a combination that is run gives its plugin a parameter the plugin
// does not declare, when the rules remove every combination, or when the product is too
// large.
SweepPlan plan_sweep(const Experiment& experiment);
std::vector<RunSpec> expand_sweep(const Experiment& experiment);

// Runs with equal memory keys need the same memory per sample: everything but the batch
// size and what does not touch memory (epochs, learning rate and its schedule, seeds,
// limits) is equal.
std::string memory_key(const RunSpec& run);

// 16 hex digits of FNV-1a: the same text gives the same hash on every machine and build.
std::string stable_hash(const std::string& text);

// 16 hex digits: FNV-1a of the canonical "key=value" lines. Stable across machines and
// builds, so a rerun of the same file finds the runs it already did.
std::string run_key(const std::vector<std::pair<std::string, Value>>& flat_params,
                    std::int64_t seed, int repeat);

}  // namespace orch
