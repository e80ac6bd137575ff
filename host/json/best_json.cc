#include "host/json/best_json.h"

namespace orch {

using Json = nlohmann::ordered_json;

Json configuration_json(const ConfigResult* config) {
  if (config == nullptr) return nullptr;
  Json runs = Json::array();
  for (const auto* run : config->runs) runs.push_back(run->run_id);
  Json interval = nullptr;
  if (config->has_interval()) interval = Json::array({config->low, config->high});
  return Json{{"configuration", config->label}, {"config_key", config->config_key},
              {"value", config->metric.mean},   {"interval", interval},
              {"ok_runs", config->ok},          {"runs", runs}};
}

Json task_answer_json(const RankedGroup& ranked) {
  const Ranking& ranking = ranked.ranking;
  Json tied = Json::array();
  for (const auto* config : ranking.tied_with_winner) tied.push_back(config->label);
  Json ordered = Json::array();
  for (int i = 0; i < ranking.eligible; ++i)
    ordered.push_back(configuration_json(&ranking.configs[i]));
  return Json{{"task", ranked.group.task},
              {"winner", configuration_json(ranking.winner())},
              {"runner_up", configuration_json(ranking.runner_up())},
              {"tied_with_winner", tied},
              {"ranked", ordered}};
}

Json objective_json(const Objective& objective) {
  return Json{{"metric", objective.metric}, {"goal", objective.maximize ? "maximize" : "minimize"}};
}

std::string render_best_json(const std::string& experiment,
                             const std::vector<std::unique_ptr<RankedGroup>>& groups) {
  Json tasks = Json::array();
  for (const auto& ranked : groups) tasks.push_back(task_answer_json(*ranked));
  Json document{{"format", "orch.best"},
                {"version", kBestJsonVersion},
                {"experiment", experiment},
                {"objective", objective_json(groups.front()->ranking.objective)},
                {"tasks", tasks}};
  return document.dump(2) + "\n";
}

}  // namespace orch
