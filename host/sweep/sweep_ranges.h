// A numeric range written as a sweep value instead of a list:
//   { from = 2, to = 16, step = 2 }                      2, 4, ..., 16
//   { from = 0.0, to = 1.0, count = 5 }                  0, 0.25, 0.5, 0.75, 1
//   { from = 1e-4, to = 1e-1, count = 4, scale = "log" } 1e-4, 1e-3, 1e-2, 1e-1
#pragma once

#include <toml++/toml.h>

#include <string>
#include <vector>

#include "host/sweep/experiment.h"
#include "orch/params.h"

namespace orch {

// The most values one range may give: more is almost surely a step that is too small.
inline constexpr size_t kMaxRangeValues = 10000;

// The values of `range` for a parameter of `type`: integers for an integer parameter
// (count-based ranges round to the nearest integer), reals otherwise. Throws UserError
// naming the entry's position in `file` and `key` for a malformed range. Under a sampled
// search (`sampled`) a range may leave out step and count: it is sampled continuously,
// and its values here are its two ends.
std::vector<Value> range_values(const toml::table& range, ParamType type, const std::string& key,
                                const std::string& file, bool sampled = false);

// What a sampled search samples of a range that range_values accepted: its ends, its step
// (0 for none), log scale, and whether it gives integers.
SweptRange range_bounds(const toml::table& range, ParamType type);

}  // namespace orch
