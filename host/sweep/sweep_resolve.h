// What plan_sweep and SweepRuns share: each plugin's resolved section, made once, and a
// combination of the product resolved and checked for the plugins it picks. Internal to
// the sweep (sweep.cc); not part of its interface.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "host/run/run_spec.h"
#include "host/sweep/experiment.h"

namespace orch {

// The resolved section of each (section, plugin) pair, made once: the plugin's defaults,
// the section's values it declares, then its [section.<plugin>] values.
class SectionResolver {
 public:
  explicit SectionResolver(const Experiment& experiment) : experiment_(experiment) {}

  const Section& base(const std::string& section, const std::string& plugin);

  // A value of the section that `plugin` does not declare, or nullptr.
  const std::pair<const std::string, RawValue>* foreign(const std::string& section,
                                                        const std::string& plugin) const;

 private:
  const Experiment& experiment_;
  std::map<std::pair<std::string, std::string>, Section> bases_;
};

// The number of combinations of the [sweep] axes. Throws UserError above kMaxCombinations.
size_t product_of(const Experiment& experiment);

// One combination of the product, resolved for the plugins it picks.
struct Combination {
  RunSpec run;
  std::map<std::string, std::string> plugin;  // section -> the plugin this run uses
  // The first swept value the run's plugin does not declare: an error if the run runs.
  const SweptKey* foreign_key = nullptr;
  const RawValue* foreign_value = nullptr;
};

// The combination whose axis values are `digits` (one index per axis).
Combination resolve(const Experiment& experiment, const std::vector<size_t>& digits,
                    SectionResolver& resolver);

// Throws UserError for a swept or fixed value the run's plugin does not declare.
void check_plugins_take_their_values(const Experiment& experiment, const Combination& combination,
                                     const SectionResolver& resolver);

}  // namespace orch
