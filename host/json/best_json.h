// `orch best --json`: the answer for scripts, one object whose shape is versioned:
//   {"format": "orch.best", "version": 1, "experiment": "...",
//    "objective": {"metric": "epoch_s", "goal": "minimize"},
//    "tasks": [{"task": "train", "winner": {...} | null, "runner_up": {...} | null,
//               "tied_with_winner": ["train.batch_size=32", ...], "ranked": [{...}, ...]}]}
// A configuration is {"configuration", "config_key", "value", "interval": [low, high] |
// null, "ok_runs", "runs": [run ids]}: the same numbers `orch best` prints.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host/report/ranking.h"

namespace orch {

inline constexpr int kBestJsonVersion = 1;

std::string render_best_json(const std::string& experiment,
                             const std::vector<std::unique_ptr<RankedGroup>>& groups);

// The pieces `orch report --json` shares with `orch best --json`: one configuration as
// above (null for none), one task's answer, and the objective.
nlohmann::ordered_json configuration_json(const ConfigResult* config);
nlohmann::ordered_json task_answer_json(const RankedGroup& ranked);
nlohmann::ordered_json objective_json(const Objective& objective);

}  // namespace orch
