// How the host writes parameter values and ranges: in run keys, tables, errors and
// `orch plugins`. Host-side on purpose: run keys hash these texts, so they must not change
// with the SDK headers a plugin happened to be built against.
#pragma once

#include <string>

#include "orch/params.h"

namespace orch {

// A value the way it would be written in TOML (strings quoted, reals in their shortest
// form that reads back to the same double: 0.001, 20.0, 1e-05).
std::string to_toml(const Value& value);

// "integer >= 1", "real in [0, 1]", "one of sgd, adam"; empty when unconstrained.
std::string describe_range(const ParamSpec& spec);

}  // namespace orch
