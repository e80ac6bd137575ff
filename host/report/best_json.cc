#include "host/report/best_json.h"

#include <nlohmann/json.hpp>

namespace orch {
namespace {

using Json = nlohmann::ordered_json;

Json configuration(const ConfigResult* config) {
  if (config == nullptr) return nullptr;
  Json runs = Json::array();
  for (const auto* run : config->runs) runs.push_back(run->run_id);
  Json interval = nullptr;
  if (config->has_interval()) interval = Json::array({config->low, config->high});
  return Json{{"configuration", config->label}, {"config_key", config->config_key},
              {"value", config->metric.mean},   {"interval", interval},
              {"ok_runs", config->ok},          {"runs", runs}};
}

}  // namespace

std::string render_best_json(const std::string& experiment,
                             const std::vector<std::unique_ptr<RankedGroup>>& groups) {
  Json tasks = Json::array();
  for (const auto& ranked : groups) {
    const Ranking& ranking = ranked->ranking;
    Json tied = Json::array();
    for (const auto* config : ranking.tied_with_winner) tied.push_back(config->label);
    Json ordered = Json::array();
    for (int i = 0; i < ranking.eligible; ++i)
      ordered.push_back(configuration(&ranking.configs[i]));
    tasks.push_back(Json{{"task", ranked->group.task},
                         {"winner", configuration(ranking.winner())},
                         {"runner_up", configuration(ranking.runner_up())},
                         {"tied_with_winner", tied},
                         {"ranked", ordered}});
  }
  const Objective& objective = groups.front()->ranking.objective;
  Json document{
      {"format", "orch.best"},
      {"version", kBestJsonVersion},
      {"experiment", experiment},
      {"objective",
       {{"metric", objective.metric}, {"goal", objective.maximize ? "maximize" : "minimize"}}},
      {"tasks", tasks}};
  return document.dump(2) + "\n";
}

}  // namespace orch
