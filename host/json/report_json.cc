#include "host/json/report_json.h"

#include <cmath>

#include "host/json/best_json.h"
#include "host/report/importance.h"
#include "host/report/report.h"

namespace orch {
namespace {

using Json = nlohmann::ordered_json;

// Not measured (NaN, or the 0 a run that never started keeps) reads null, not 0.
Json measured(double value) {
  if (!std::isfinite(value)) return nullptr;
  return value;
}
Json measured_if_positive(double value) { return value > 0 ? measured(value) : Json(nullptr); }

Json run_json(const storage::RunSummary& run) {
  Json interval = nullptr;
  if (std::isfinite(run.median_epoch_low_s) && std::isfinite(run.median_epoch_high_s)) {
    interval = Json::array({run.median_epoch_low_s, run.median_epoch_high_s});
  }
  const bool trained = run.epochs > 0;
  Json params = Json::parse(run.params_json, nullptr, /*allow_exceptions=*/false);
  if (params.is_discarded()) params = nullptr;
  return Json{{"id", run.run_id},
              {"run_key", run.run_key},
              {"configuration", run.swept},
              {"params", std::move(params)},
              {"repeat", run.repeat},
              {"attempt", run.attempt},
              {"status", status_word(run.status)},
              {"batch_size", run.batch_size},
              {"epochs", run.epochs},
              {"wall_s", measured_if_positive(run.wall_s)},
              {"epoch_s", trained ? measured(run.epoch_s) : Json(nullptr)},
              {"median_epoch_s", measured(run.median_epoch_s)},
              {"median_epoch_interval", interval},
              {"samples_per_s", trained ? measured(run.samples_per_s) : Json(nullptr)},
              {"train_loss", trained ? measured(run.train_loss) : Json(nullptr)},
              {"val_loss", trained ? measured(run.val_loss) : Json(nullptr)},
              {"val_accuracy", trained ? measured(run.val_accuracy) : Json(nullptr)},
              {"peak_rss_bytes", run.peak_rss_bytes > 0 ? Json(run.peak_rss_bytes) : Json(nullptr)},
              {"projected_s", measured(run.projected_s)},
              {"busy", run.busy},
              {"stop_layer", run.stop_layer},
              {"error", run.error}};
}

Json knobs_json(const std::vector<KnobImportance>& knobs) {
  Json out = Json::array();
  for (const auto& knob : knobs) {
    out.push_back(Json{{"key", knob.key}, {"share", knob.share}, {"levels", knob.levels}});
  }
  return out;
}

Json importance_json(const Importance& importance) {
  return Json{{"metric", importance.metric},           {"runs", importance.runs},
              {"keys", knobs_json(importance.knobs)},  {"pairs", knobs_json(importance.pairs)},
              {"not_judged", importance.too_few_runs}, {"why_none", importance.why_none}};
}

Json task_json(const RankedGroup& ranked, const Objective& objective) {
  const Ranking& ranking = ranked.ranking;
  Json configurations = Json::array();
  for (const auto& config : ranking.configs) {
    Json entry = configuration_json(&config);
    entry["verdict"] = config_verdict(ranking, config);
    entry["peak_rss_bytes"] = config.peak_rss_bytes > 0 ? Json(config.peak_rss_bytes) : nullptr;
    entry["val_accuracy"] = config.ok > 0 ? measured(config.val_accuracy) : Json(nullptr);
    entry["excluded"] = config.excluded;
    entry["tie_reason"] = config.tie_reason;
    configurations.push_back(std::move(entry));
  }
  Json task = task_answer_json(ranked);
  task["configurations"] = std::move(configurations);
  task["importance"] = importance_json(knob_importance(ranked.group.runs, objective));
  return task;
}

}  // namespace

std::string render_report_json(const std::string& experiment,
                               const std::vector<storage::RunSummary>& runs,
                               const std::vector<std::unique_ptr<RankedGroup>>& groups,
                               const Objective& objective) {
  Json run_list = Json::array();
  for (const auto& run : runs) run_list.push_back(run_json(run));
  Json tasks = Json::array();
  for (const auto& ranked : groups) tasks.push_back(task_json(*ranked, objective));
  Json document{{"format", "orch.report"},     {"version", kReportJsonVersion},
                {"experiment", experiment},    {"objective", objective_json(objective)},
                {"runs", std::move(run_list)}, {"tasks", std::move(tasks)}};
  return document.dump(2) + "\n";
}

}  // namespace orch
