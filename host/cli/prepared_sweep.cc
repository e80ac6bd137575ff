#include "host/cli/prepared_sweep.h"

#include <spdlog/spdlog.h>

#include <set>

#include "host/base/memory_budget.h"
#include "host/catalog/catalog_loading.h"
#include "host/schedule/run_setup.h"
#include "host/sweep/builtin_params.h"
#include "host/sweep/overrides.h"

namespace orch {

namespace {

// --memory-limit and --set, checked.
std::vector<Override> overrides_of(const Options& options) {
  std::vector<Override> overrides;
  if (!options.memory_limit.empty()) {
    parse_budget(options.memory_limit, machine_memory_at_start(), "--memory-limit");
    overrides.push_back(memory_limit_override(options.memory_limit));
  }
  for (const auto& text : options.overrides) overrides.push_back(parse_override(text));
  return overrides;
}

}  // namespace

PreparedSweep prepare_sweep(const Options& options) {
  PreparedSweep prepared;
  prepared.catalog = load_catalog(options.plugin_dirs, /*warn_refusals=*/true);
  std::vector<Override> overrides = overrides_of(options);
  prepared.experiment = load_experiment(options.file, *prepared.catalog, overrides);
  SweepPlan plan = plan_sweep(prepared.experiment);
  for (const auto& warning : prepared.experiment.warnings) spdlog::warn("{}", warning);
  for (const auto& warning : plan.warnings) spdlog::warn("{}", warning);
  prepared.runs = std::move(plan.runs);
  prepared.counts = plan.counts;
  check_budgets(prepared.runs, options.jobs);
  check_train_keys(prepared.experiment, prepared.runs);
  return prepared;
}

PreparedSweep prepare_sweep_again(const Options& options) {
  const auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::err);
  PreparedSweep prepared = prepare_sweep(options);
  spdlog::set_level(level);
  return prepared;
}

PreparedPlan prepare_plan(const Options& options) {
  PreparedPlan prepared;
  prepared.catalog = load_catalog(options.plugin_dirs, /*warn_refusals=*/true);
  std::vector<Override> overrides = overrides_of(options);
  prepared.experiment =
      std::make_unique<Experiment>(load_experiment(options.file, *prepared.catalog, overrides));
  prepared.runs = std::make_unique<SweepRuns>(*prepared.experiment);
  for (const auto& warning : prepared.experiment->warnings) spdlog::warn("{}", warning);
  for (const auto& warning : prepared.runs->warnings()) spdlog::warn("{}", warning);
  // Both read only a few [train] keys: witnesses of their values give the errors every run
  // would (check_budgets reads train.memory_limit).
  std::set<std::string> read = keys_read_by_check_train_keys();
  read.insert("memory_limit");
  std::vector<RunSpec> witnesses = prepared.runs->train_witnesses(read);
  check_budgets(witnesses, options.jobs);
  check_train_keys(*prepared.experiment, witnesses);
  return prepared;
}

}  // namespace orch
