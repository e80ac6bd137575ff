// Expands an experiment into its runs: the cartesian product of the [sweep] axes (a list,
// a range or a [[sweep.zip]] group each), in file order with the last axis varying
// fastest, less the combinations [[sweep.exclude]] rules remove, all of it repeated
// `repeats` times. Each run's sections are resolved for the plugins it uses.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "host/run/run_spec.h"
#include "host/sweep/experiment.h"

namespace orch {

// A product larger than this is refused: it is a mistake, not a plan. Its SweepRuns
// take a few MB and well under a second; as RunSpecs, its runs take about 6 KB each.
inline constexpr size_t kMaxCombinations = 100000;

// How the product came to its runs, for `orch plan`.
struct SweepCounts {
  size_t combinations = 1;               // the product of the axes
  std::vector<size_t> excluded_by_rule;  // combinations each rule matches, in rule order
  size_t excluded = 0;                   // combinations some rule matches
  size_t duplicates = 0;                 // the same resolved parameters as an earlier one
  size_t configurations() const { return combinations - excluded - duplicates; }
};

struct SweepPlan {
  std::vector<RunSpec> runs;
  SweepCounts counts;
  std::vector<std::string> warnings;  // a rule that removes nothing
};

// The runs of a sweep as positions in the product and the hashes of their resolved
// parameters: what `orch plan` lists, without a RunSpec per run. Each axis value is
// checked and printed once per plugin choice instead of once per run, and a run key is
// hashed from those texts without building the canonical lines. A RunSpec is built only
// when asked for, by the same code for plan and run, so both agree on every run and key.
// Keeps a reference to `experiment`, which must outlive it; not safe to share between
// threads (it caches resolved sections).
class SweepRuns {
 public:
  // Expands `experiment`. Throws UserError like plan_sweep.
  explicit SweepRuns(const Experiment& experiment);
  ~SweepRuns();
  SweepRuns(SweepRuns&&) noexcept;
  SweepRuns& operator=(SweepRuns&&) noexcept;

  size_t size() const;  // runs, repeats included
  const SweepCounts& counts() const;
  const std::vector<std::string>& warnings() const;  // a rule that removes nothing

  // Of run `run` (its index, 0-based): what RunSpec gives, without building one.
  int repeat(size_t run) const;
  std::string key(size_t run) const;
  // Appends swept_text(): "train.batch_size=4 train.epochs=2", or "-".
  void append_swept_text(size_t run, std::string& out) const;
  size_t swept_text_size(size_t run) const;
  // Runs with equal plugin choices use the same plugin in every section.
  size_t plugin_choice(size_t run) const;

  // The run as plan_sweep gives it.
  RunSpec spec(size_t run) const;
  std::vector<RunSpec> specs() const;  // every run, in order
  // For checks that read only the [train] keys `read` and report the first offending run,
  // or the last value that offends: of each distinct combination of those keys' values,
  // the first run that has it (in run order), then the last run that has it (in order of
  // those last runs). A sweep of 100,000 points over batch size, epochs and lr gives as
  // many witnesses as it has distinct values of the keys read, not 100,000.
  std::vector<RunSpec> train_witnesses(const std::set<std::string>& read) const;

 private:
  struct Layout;
  std::unique_ptr<Layout> layout_;
};

// Throws UserError when a combination that is run gives its plugin a parameter the plugin
// does not declare, when the rules remove every combination, or when the product is too
// large.
SweepPlan plan_sweep(const Experiment& experiment);
std::vector<RunSpec> expand_sweep(const Experiment& experiment);

}  // namespace orch
