// Reads the [search] section (host/search/search_settings.h):
//   [search]
//   strategy = "bayes"   # grid (default) | random | sobol | bayes
//   max_runs = 24        # and/or max_seconds = 3600
//   seed = 1
//   prune = "asha"       # none | median | asha
//   min_epochs = 1
//   reduction = 3
//   race = true          # a grid of repeats: stop repeating the clearly slower
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <string>

#include "host/search/search_settings.h"

namespace orch {

struct Experiment;

// nullptr: no [search], every point of the grid. Throws UserError with file:line:column
// for an unknown key, strategy or rule and for values out of range.
SearchSettings load_search(const toml::table* table, const std::string& file,
                           std::int64_t experiment_seed);

// The checks that need the rest of the file: a sampled search needs max_runs or
// max_seconds; pruning needs a metric measured every epoch; an out-of-memory point of a
// search is an infeasible point, not a batch to halve. Throws UserError naming [search].
void check_search(const Experiment& experiment);

}  // namespace orch
