#include "host/sweep/objective.h"

#include <cstdio>

#include "host/base/memory_budget.h"
#include "host/base/user_error.h"
#include "host/sweep/param_check.h"

namespace orch {
namespace {

struct MetricInfo {
  const char* name;
  bool maximize_by_default;
};

constexpr MetricInfo kMetrics[] = {
    {"epoch_s", false},     {"samples_per_s", true}, {"step_median_s", false},
    {"val_accuracy", true}, {"val_loss", false},     {"train_loss", false},
    {"peak_rss", false},    {"wall_s", false},       {"time_to_target", false},
};

const ParamSpecs& objective_specs() {
  static const ParamSpecs specs = {
      ParamSpec::Str("metric", "epoch_s", "what to optimize")
          .one_of({"epoch_s", "samples_per_s", "step_median_s", "val_accuracy", "val_loss",
                   "train_loss", "peak_rss", "wall_s", "time_to_target"}),
      ParamSpec::Str("goal", "", "minimize or maximize; default: what the metric wants")
          .one_of({"", "minimize", "maximize"}),
      ParamSpec::Str("max_peak_memory", "", "constraint: peak RSS at most this, e.g. \"2GiB\""),
      ParamSpec::Real("min_val_accuracy", -1, "constraint: validation accuracy at least this")
          .range(-1, 1),
      ParamSpec::Real("max_epoch_s", 0, "constraint: seconds per epoch at most this; 0 = none")
          .at_least(0),
  };
  return specs;
}

// `target = { val_accuracy = 0.97 }`: one per-epoch metric a run can reach.
Target read_target(const toml::node& node, const std::string& file) {
  const toml::table* table = node.as_table();
  const std::string how = "; write target = { val_accuracy = 0.97 } (or val_loss, train_loss)";
  if (table == nullptr || table->size() != 1) {
    throw UserError(where(file, node) + ": objective.target must name one metric and its value" +
                    how);
  }
  // The iterator holds the pair it hands out: keep it alive while the pair is read.
  const auto entry = table->begin();
  const toml::key& raw_key = entry->first;
  const toml::node& value = entry->second;
  Target target;
  target.metric = std::string(raw_key.str());
  if (target.metric != "val_accuracy" && target.metric != "val_loss" &&
      target.metric != "train_loss") {
    throw UserError(where(file, raw_key) + ": objective.target cannot be '" + target.metric +
                    "': a run reaches a target of a metric it measures every epoch" + how);
  }
  if (!value.is_number()) {
    throw UserError(where(file, value) + ": objective.target." + target.metric +
                    " must be a number" + how);
  }
  target.value = *value.value<double>();
  target.maximize = target.metric == "val_accuracy";
  return target;
}

}  // namespace

std::string Target::describe() const {
  char number[32];
  std::snprintf(number, sizeof number, "%g", value);
  return metric + (maximize ? " >= " : " <= ") + number;
}

std::string Objective::describe() const {
  if (target) return "fastest to " + target->describe();
  return std::string(maximize ? "highest " : "lowest ") + metric;
}

Objective load_objective(const toml::table* table, const std::string& file) {
  Objective objective;
  if (table == nullptr) return objective;
  const ParamSpecs& specs = objective_specs();
  std::string goal;
  for (const auto& [raw_key, node] : *table) {
    std::string key(raw_key.str());
    if (key == "target") {
      objective.target = read_target(node, file);
      continue;
    }
    const ParamSpec* spec = find_spec(specs, key);
    if (spec == nullptr) {
      throw UserError(where(file, raw_key) + ": unknown key '" + key +
                      "' in [objective]; known: " + spec_names(specs) + ", target");
    }
    Value value = check_param(*spec, node, "objective." + key, file);
    if (key == "metric") objective.metric = std::get<std::string>(value);
    if (key == "goal") goal = std::get<std::string>(value);
    if (key == "min_val_accuracy") objective.min_val_accuracy = std::get<double>(value);
    if (key == "max_epoch_s" && std::get<double>(value) > 0) {
      objective.max_epoch_s = std::get<double>(value);
    }
    if (key == "max_peak_memory") {
      objective.max_peak_rss_bytes =
          parse_budget(std::get<std::string>(value), machine_memory_at_start(),
                       where(file, node) + ": objective.max_peak_memory");
    }
  }
  for (const auto& metric : kMetrics) {
    if (objective.metric == metric.name) objective.maximize = metric.maximize_by_default;
  }
  if (!goal.empty()) objective.maximize = goal == "maximize";
  const bool to_target = objective.metric == "time_to_target";
  if (to_target && !objective.target) {
    throw UserError(where(file, *table) +
                    ": [objective] metric = \"time_to_target\" needs the target to reach: "
                    "target = { val_accuracy = 0.97 } (or val_loss, train_loss)");
  }
  if (!to_target && objective.target) {
    throw UserError(where(file, *table) +
                    ": [objective] target is what metric = \"time_to_target\" races to; with "
                    "metric = \"" +
                    objective.metric +
                    "\" use min_val_accuracy as a constraint, or set that metric");
  }
  if (to_target && objective.maximize) {
    throw UserError(where(file, *table) +
                    ": [objective] time_to_target is minimized (the fastest to the target wins)");
  }
  return objective;
}

Objective objective_from_text(const std::string& text, const std::string& label) {
  try {
    toml::table root = toml::parse(text, label);
    return load_objective(root["objective"].as_table(), label);
  } catch (const toml::parse_error&) {
    return Objective{};  // the file was valid when it ran; a later orch may read it differently
  }
}

}  // namespace orch
