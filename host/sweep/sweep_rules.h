// [[sweep.exclude]] rules: combinations of the product that make no sense and are not run.
//   [[sweep.exclude]]
//   "model.plugin" = "memory_hog"
//   "train.batch_size" = { at_least = 64 }
#pragma once

#include <toml++/toml.h>

#include <map>
#include <string>

#include "host/run/run_spec.h"
#include "host/sweep/experiment.h"
#include "host/sweep/sweep_source.h"

namespace orch {

// Reads one rule. Its keys are section.parameter or section.plugin of the experiment's
// sections; a condition is a value (equal), a list (any of) or a table of bounds
// (at_least, at_most, above, below). Throws UserError for an unknown key or a condition
// that cannot be met by the parameter's type.
ExcludeRule load_exclude_rule(const toml::table& table, const Experiment& experiment,
                              const SourceFile& file);

// True when one run's resolved sections meet every condition of `rule`. A condition on a
// parameter the run's plugin does not have is not met.
bool excludes(const ExcludeRule& rule, const std::map<std::string, Section>& sections);

// True when `value` (a parameter's, or a plugin name's) meets one condition.
bool meets(const ExcludeCondition& condition, const Value& value);

}  // namespace orch
