// Between a sampled search's numbers and the sweep's runs: the space the [sweep] axes
// span, and the runs of one point of it.
#pragma once

#include <string>
#include <vector>

#include "host/run/run_spec.h"
#include "host/search/search_space.h"
#include "host/sweep/experiment.h"

namespace orch {

// One dimension per axis of the experiment's [sweep], in file order: a range (not in a
// zip) is numeric, a list or a zip group categorical over its values.
SearchSpace search_space(const Experiment& experiment);

// The runs of `point` (one per repeat), resolved and keyed like the grid's runs: the
// experiment with each axis narrowed to the point's value. Empty when a [[sweep.exclude]]
// rule removes the point. A sampled real is kept to 4 significant digits, as a user
// would write it back with --set.
std::vector<RunSpec> runs_of_point(const Experiment& experiment, const SearchSpace& space,
                                   const Point& point);

}  // namespace orch
