#include "host/json/plan_json.h"

#include <nlohmann/json.hpp>
#include <variant>

#include "host/base/memory_budget.h"
#include "host/schedule/run_setup.h"
#include "host/search/pruner.h"
#include "host/search/sampler.h"

namespace orch {
namespace {

using Json = nlohmann::ordered_json;

Json plugins_json(const Experiment& experiment) {
  Json plugins = Json::object();
  for (const auto& [section, kind] : plugin_sections()) {
    plugins[section] = experiment.sections.at(section).choices;
  }
  return plugins;
}

Json run_json(const SweepRuns& runs, size_t run, const std::string& state) {
  static const std::string kSkip = "would skip: ";
  std::string swept;
  runs.append_swept_text(run, swept);
  Json entry{{"index", run + 1},
             {"run_key", runs.key(run)},
             {"configuration", swept},
             {"repeat", runs.repeat(run)}};
  if (state.rfind(kSkip, 0) == 0) {
    entry["state"] = "would_skip";
    entry["skip_reason"] = state.substr(kSkip.size());
  } else {
    entry["state"] = state == "would run" ? "would_run" : "done";
    entry["skip_reason"] = nullptr;
  }
  return entry;
}

const char* verdict_word(MemoryVerdict verdict) {
  switch (verdict) {
    case MemoryVerdict::kFits:
      return "fits";
    case MemoryVerdict::kRisky:
      return "risky";
    case MemoryVerdict::kDoesNotFit:
      return "does_not_fit";
  }
  return "";
}

Json forecast_json(const MemoryForecast& forecast) {
  Json batch_sizes = Json::array();
  for (std::int64_t batch : forecast.batch_sizes) {
    Json entry{{"batch_size", batch}, {"predicted_peak_bytes", nullptr}, {"verdict", nullptr}};
    if (forecast.model.usable()) {
      entry["predicted_peak_bytes"] = static_cast<std::int64_t>(forecast.model.peak_at(batch));
      entry["verdict"] = verdict_word(memory_verdict(forecast, batch));
    }
    batch_sizes.push_back(std::move(entry));
  }
  return Json{{"label", forecast.label},
              {"budget_bytes", forecast.budget_bytes},
              {"measured_peaks", forecast.model.points},
              {"probe_answer", forecast.probe_answer ? Json(*forecast.probe_answer) : nullptr},
              {"batch_sizes", std::move(batch_sizes)}};
}

Json value_json(const Value& value) {
  return std::visit([](const auto& v) { return Json(v); }, value);
}

Json dimension_json(const Dimension& dimension, const SweepAxis& axis) {
  Json entry{{"key", dimension.name}};
  if (dimension.kind == Dimension::Kind::kCategorical) {
    entry["kind"] = "categorical";
    Json values = Json::array();
    for (size_t i = 0; i < axis.size(); ++i) {
      if (axis.keys.size() == 1) {
        values.push_back(value_json(axis.keys.front().values[i].value));
        continue;
      }
      Json together = Json::object();  // a zip: one value of each of its keys
      for (const auto& key : axis.keys) together[key.path()] = value_json(key.values[i].value);
      values.push_back(std::move(together));
    }
    entry["values"] = std::move(values);
    return entry;
  }
  entry["kind"] = dimension.kind == Dimension::Kind::kInteger ? "integer" : "real";
  const bool integer = dimension.kind == Dimension::Kind::kInteger;
  entry["low"] = integer ? Json(static_cast<std::int64_t>(dimension.low)) : Json(dimension.low);
  entry["high"] = integer ? Json(static_cast<std::int64_t>(dimension.high)) : Json(dimension.high);
  entry["log"] = dimension.log;
  entry["step"] = dimension.step > 0 ? Json(dimension.step) : nullptr;
  return entry;
}

}  // namespace

std::string render_plan_json(const Experiment& experiment, const SweepRuns& runs,
                             const std::vector<const std::string*>& states,
                             const std::optional<std::vector<MemoryForecast>>& memory) {
  Json run_list = Json::array();
  size_t would_run = 0;
  for (size_t run = 0; run < runs.size(); ++run) {
    run_list.push_back(run_json(runs, run, *states[run]));
    would_run += run_list.back()["state"] == "would_run" ? 1 : 0;
  }
  Json forecasts = nullptr;
  if (memory) {
    forecasts = Json::array();
    for (const auto& forecast : *memory) forecasts.push_back(forecast_json(forecast));
  }
  Json document{{"format", "orch.plan"},
                {"version", kPlanJsonVersion},
                {"experiment", experiment.name},
                {"strategy", "grid"},
                {"runs_total", runs.size()},
                {"would_run", would_run},
                {"budget_bytes", run_budget(runs.spec(0))},
                {"plugins", plugins_json(experiment)},
                {"overrides", experiment.overrides},
                {"runs", std::move(run_list)},
                {"memory", std::move(forecasts)}};
  return document.dump(2) + "\n";
}

std::string render_search_plan_json(const Experiment& experiment, const SearchSpace& space,
                                    const std::vector<int>& prune_epochs, size_t tried,
                                    const std::vector<std::string>& first_points) {
  const SearchSettings& search = experiment.search;
  Json dimensions = Json::array();
  for (size_t i = 0; i < space.dimensions.size(); ++i) {
    dimensions.push_back(dimension_json(space.dimensions[i], experiment.sweep[i]));
  }
  Json points = Json::array();
  for (size_t i = 0; i < first_points.size(); ++i) {
    points.push_back(
        Json{{"index", i + 1},
             {"configuration", first_points[i].empty() ? Json(nullptr) : Json(first_points[i])}});
  }
  Json document{{"format", "orch.plan"},
                {"version", kPlanJsonVersion},
                {"experiment", experiment.name},
                {"strategy", strategy_word(search.strategy)},
                {"max_runs", search.max_runs > 0 ? Json(search.max_runs) : nullptr},
                {"max_seconds", search.max_seconds > 0 ? Json(search.max_seconds) : nullptr},
                {"seed", search.seed},
                {"prune", prune_word(search.prune.rule)},
                {"prune_epochs", prune_epochs},
                {"promote", search.prune.promote},
                {"plugins", plugins_json(experiment)},
                {"space", std::move(dimensions)},
                {"tried", tried},
                {"first_points", std::move(points)}};
  return document.dump(2) + "\n";
}

}  // namespace orch
