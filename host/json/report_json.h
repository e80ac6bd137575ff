// `orch report --json`: what `orch report` prints, for scripts. One object, versioned:
//   {"format": "orch.report", "version": 1, "experiment": "...", "objective": {...},
//    "runs": [{"id", "run_key", "configuration", "params": {...}, "repeat", "attempt",
//              "status", "epochs", "wall_s", "epoch_s", "median_epoch_s",
//              "median_epoch_interval": [low, high] | null, "samples_per_s", "train_loss",
//              "val_loss", "val_accuracy", "peak_rss_bytes", "projected_s", "busy",
//              "stop_layer", "error"}],
//    "tasks": [{...orch best's task..., "configurations": [{...a configuration...,
//               "verdict", "peak_rss_bytes", "val_accuracy", "excluded", "tie_reason"}],
//               "importance": {"runs", "keys": [{"key", "share", "levels"}], "pairs": [...],
//                              "not_judged": [...], "why_none"}}]}
// A number that was not measured is null.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "host/report/ranking.h"
#include "storage/store.h"

namespace orch {

inline constexpr int kReportJsonVersion = 1;

std::string render_report_json(const std::string& experiment,
                               const std::vector<storage::RunSummary>& runs,
                               const std::vector<std::unique_ptr<RankedGroup>>& groups,
                               const Objective& objective);

}  // namespace orch
