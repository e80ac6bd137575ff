// Where a search looks next. A sampler turns what the search has seen so far into the
// next point to run. It is deterministic: the same seed, history and index give the same
// point, so that a search resumed from its database (or replayed by the benchmark)
// continues exactly as it would have.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/search/search_space.h"

namespace orch {

// One point that was tried, as the sampler learns from it.
struct Trial {
  Point point;
  // The objective's value, lower is better (a maximized metric is negated before it gets
  // here); for a pruned trial, its value at the epoch it was stopped. Empty when the run
  // gave none: infeasible, failed.
  std::optional<double> value;
  // Ran out of memory, or the memory model says it will not fit: the sampler steers
  // away from it instead of trying it again (Optuna's constraints_func).
  bool infeasible = false;
  // Stopped by the pruner after `epochs` epochs: it was worse than its peers at some rung.
  // Ranked after every finished trial, the deeper ones first (as Optuna's TPE does), so it
  // counts as good only while too few trials have finished.
  bool pruned = false;
  int epochs = 0;
};

enum class SearchStrategy { kGrid, kRandom, kSobol, kBayes };

// "grid", "random", "sobol", "bayes"
const char* strategy_word(SearchStrategy strategy);

class Sampler {
 public:
  virtual ~Sampler() = default;
  // The point of suggestion number `index` (0-based, counting every suggestion the search
  // made, finished or not), given the trials finished so far (in the order they ended).
  virtual Point suggest(const std::vector<Trial>& history, size_t index) = 0;
};

// random: independent uniform points. sobol: a scrambled low-discrepancy sequence (point
// `index` of it). bayes: a tree-structured Parzen estimator (Bergstra et al. 2011) after
// a few quasi-random points. Not for kGrid, which the sweep expands instead. Throws
// std::invalid_argument for kGrid, and for sobol over more than 21 dimensions (the table of
// direction numbers it carries).
std::unique_ptr<Sampler> make_sampler(SearchStrategy strategy, const SearchSpace& space,
                                      std::uint64_t seed);

}  // namespace orch
