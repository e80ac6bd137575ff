#include "host/sweep/search_section.h"

#include <set>
#include <utility>

#include "host/base/user_error.h"
#include "host/sweep/experiment.h"
#include "host/sweep/param_check.h"

namespace orch {
namespace {

const ParamSpecs& search_specs() {
  static const ParamSpecs specs = {
      ParamSpec::Str("strategy", "grid", "how points are chosen")
          .one_of({"grid", "random", "sobol", "bayes"}),
      ParamSpec::Int("max_runs", 0, "points a sampled search tries; 0 = no limit").range(0, 100000),
      ParamSpec::Real("max_seconds", 0, "no new point after this many seconds; 0 = no limit")
          .at_least(0),
      ParamSpec::Int("seed", 0, "the sampler's seed; default: [experiment] seed"),
      ParamSpec::Str("prune", "none", "stop runs that fall behind")
          .one_of({"none", "median", "asha"}),
      ParamSpec::Int("min_epochs", 1, "epochs before the first prune (asha: the first rung)")
          .range(1, 100000),
      ParamSpec::Int("reduction", 3, "asha: 1/reduction of the runs go on at each rung")
          .range(2, 100),
      ParamSpec::Bool("race", false, "stop repeating a configuration clearly slower than the best"),
      ParamSpec::Bool("promote", false,
                      "asha: pause runs that fall behind and take them up again when they "
                      "rank among the best later"),
  };
  return specs;
}

SearchStrategy strategy_named(const std::string& word) {
  if (word == "random") return SearchStrategy::kRandom;
  if (word == "sobol") return SearchStrategy::kSobol;
  if (word == "bayes") return SearchStrategy::kBayes;
  return SearchStrategy::kGrid;
}

PruneRule rule_named(const std::string& word) {
  if (word == "median") return PruneRule::kMedian;
  if (word == "asha") return PruneRule::kAsha;
  return PruneRule::kNone;
}

// The objective's metrics a run reports after every epoch, which a pruner can compare.
bool measured_every_epoch(const std::string& metric) {
  static const std::set<std::string> metrics = {"epoch_s",      "samples_per_s", "step_median_s",
                                                "val_accuracy", "val_loss",      "train_loss"};
  return metrics.count(metric) > 0;
}

// Racing compares repeats of speed measurements round by round.
void check_race(const Experiment& experiment) {
  const SearchSettings& search = experiment.search;
  const std::string& metric = experiment.objective.metric;
  if (search.samples()) {
    throw UserError(search.at +
                    ": [search] race = true races the repeats of a grid's "
                    "configurations; leave out strategy, or race = false");
  }
  if (metric != "epoch_s" && metric != "samples_per_s" && metric != "step_median_s") {
    throw UserError(search.at +
                    ": [search] race = true compares speeds, and [objective] metric "
                    "= \"" +
                    metric + "\" is not one; race on epoch_s, samples_per_s or step_median_s");
  }
  if (experiment.repeats < 4) {
    throw UserError(search.at +
                    ": [search] race = true needs [experiment] repeats = 4 or more: "
                    "a configuration is raced out after 3 paired rounds, and "
                    "only later repeats are saved (repeats = " +
                    std::to_string(experiment.repeats) + ")");
  }
}

// A paused run goes on from its checkpoint when a search promotes it.
void check_promote(const Experiment& experiment) {
  const SearchSettings& search = experiment.search;
  if (search.prune.rule != PruneRule::kAsha) {
    throw UserError(search.at +
                    ": [search] promote = true takes up runs that ASHA paused at a "
                    "rung, and prune = \"" +
                    prune_word(search.prune.rule) + "\"; set prune = \"asha\", or promote = false");
  }
  if (!search.samples()) {
    throw UserError(search.at +
                    ": [search] promote = true works in a sampled search, which "
                    "chooses between a new point and a paused run; set strategy = \"bayes\", "
                    "\"random\" or \"sobol\" with max_runs, or promote = false");
  }
  const auto& train = experiment.sections.at("train");
  const std::pair<const char*, const char*> no_checkpoints[] = {{"mode", "benchmark"},
                                                                {"task", "inference"}};
  for (const auto& [key, word] : no_checkpoints) {
    auto set = train.values.find(key);
    if (set != train.values.end() && set->second.value == Value(std::string(word))) {
      throw UserError(set->second.at + ": train." + key + " = \"" + word +
                      "\" writes no checkpoint, and [search] promote = true pauses runs at a "
                      "checkpoint; set promote = false");
    }
  }
}

}  // namespace

SearchSettings load_search(const toml::table* table, const std::string& file,
                           std::int64_t experiment_seed) {
  SearchSettings search;
  search.seed = static_cast<std::uint64_t>(experiment_seed);
  if (table == nullptr) return search;
  search.at = where(file, *table);
  const ParamSpecs& specs = search_specs();
  for (const auto& [raw_key, node] : *table) {
    std::string key(raw_key.str());
    const ParamSpec* spec = find_spec(specs, key);
    if (spec == nullptr) {
      throw UserError(where(file, raw_key) + ": unknown key '" + key +
                      "' in [search]; known: " + spec_names(specs));
    }
    Value value = check_param(*spec, node, "search." + key, file);
    if (key == "strategy") search.strategy = strategy_named(std::get<std::string>(value));
    if (key == "max_runs") search.max_runs = std::get<std::int64_t>(value);
    if (key == "max_seconds") search.max_seconds = std::get<double>(value);
    if (key == "seed") search.seed = static_cast<std::uint64_t>(std::get<std::int64_t>(value));
    if (key == "prune") search.prune.rule = rule_named(std::get<std::string>(value));
    if (key == "min_epochs")
      search.prune.min_epochs = static_cast<int>(std::get<std::int64_t>(value));
    if (key == "reduction")
      search.prune.reduction = static_cast<int>(std::get<std::int64_t>(value));
    if (key == "race") search.race = std::get<bool>(value);
    if (key == "promote") search.prune.promote = std::get<bool>(value);
  }
  if (!search.samples() && search.max_runs > 0) {
    throw UserError(search.at +
                    ": [search] max_runs limits a sampled search, and strategy = "
                    "\"grid\" runs every point; use strategy = \"random\", \"sobol\" "
                    "or \"bayes\", or leave max_runs out");
  }
  return search;
}

void check_search(const Experiment& experiment) {
  const SearchSettings& search = experiment.search;
  if (search.samples() && search.max_runs == 0 && search.max_seconds == 0) {
    throw UserError(search.at + ": [search] strategy = \"" + strategy_word(search.strategy) +
                    "\" needs a budget: max_runs = N (points to try), max_seconds = S, or both");
  }
  if (search.prune.rule != PruneRule::kNone && !measured_every_epoch(experiment.objective.metric)) {
    throw UserError(search.at + ": [search] prune = \"" + prune_word(search.prune.rule) +
                    "\" compares runs epoch by epoch, and [objective] metric = \"" +
                    experiment.objective.metric +
                    "\" is measured once per run; prune on val_accuracy, val_loss, train_loss, "
                    "epoch_s, samples_per_s or step_median_s, or set prune = \"none\"");
  }
  if (search.race) check_race(experiment);
  if (search.prune.promote) check_promote(experiment);
  if (!search.samples()) return;
  if (experiment.auto_batch_size) {
    throw UserError(search.at +
                    ": train.batch_size = \"auto\" and a sampled search cannot be "
                    "combined yet; sweep train.batch_size as a list or range instead");
  }
  const auto& train = experiment.sections.at("train");
  auto on_oom = train.values.find("on_oom");
  if (on_oom != train.values.end() && on_oom->second.value == Value(std::string("halve"))) {
    throw UserError(on_oom->second.at +
                    ": train.on_oom = \"halve\" would run another point than the search chose; "
                    "under [search] a point that runs out of memory is recorded as infeasible "
                    "and steers the search away. Use on_oom = \"skip\" (the default)");
  }
}

}  // namespace orch
