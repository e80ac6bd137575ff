// The [search] section: how the points of the [sweep] are chosen (every point of the grid,
// or a sampled few), how many, and whether runs that fall behind stop early.
#pragma once

#include <cstdint>
#include <string>

#include "host/search/pruner.h"
#include "host/search/sampler.h"

namespace orch {

struct SearchSettings {
  SearchStrategy strategy = SearchStrategy::kGrid;
  std::int64_t max_runs = 0;  // points a sampled search tries; 0: no limit
  double max_seconds = 0;     // wall time after which it suggests no new point; 0: no limit
  std::uint64_t seed = 0;     // [search] seed, else [experiment] seed
  PruneSettings prune;
  // A grid of repeats stops repeating a configuration once it is clearly slower than the
  // best (host/schedule/racing.h).
  bool race = false;
  std::string at;  // the [search] section in its file, for messages; empty when absent

  // A strategy that samples points instead of running every point of the grid.
  bool samples() const { return strategy != SearchStrategy::kGrid; }
};

}  // namespace orch
