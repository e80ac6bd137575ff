#include "host/schedule/racing.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <vector>

#include "host/base/stats.h"
#include "host/report/ranking.h"

namespace orch {
namespace {

// A configuration's measured repeats: the metric by repeat index, lower is better.
using Rounds = std::map<int, double>;

std::string ratio_text(double log_ratio) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2fx", std::exp(log_ratio));
  return text;
}

}  // namespace

std::unique_ptr<Race> Race::of(const Experiment& experiment, storage::Store& store,
                               std::int64_t machine_id) {
  if (!experiment.search.race) return nullptr;
  return std::unique_ptr<Race>(new Race(experiment, store, machine_id));
}

std::optional<std::string> Race::raced_out(const RunSpec& run) {
  const Objective& objective = experiment_.objective;
  std::map<std::string, Rounds> rounds;  // by config key
  std::map<std::string, std::string> labels;
  for (const auto& summary : store_.latest_runs(experiment_.name, machine_id_)) {
    if (summary.status != RunStatus::kOk) continue;
    const double value = metric_value(summary, objective.metric);
    if (!(value > 0) || !std::isfinite(value)) continue;
    // Compared as "lower is better" on a log scale: a rate is inverted.
    rounds[summary.config_key][summary.repeat] =
        objective.maximize ? -std::log(value) : std::log(value);
    labels[summary.config_key] = summary.swept;
  }
  auto mine = rounds.find(run.config_key);
  if (mine == rounds.end() || mine->second.size() < kRaceRounds) return std::nullopt;
  // The best so far: the lowest mean over the configurations with enough rounds.
  std::string best;
  double best_mean = INFINITY;
  for (const auto& [config, measured] : rounds) {
    if (measured.size() < kRaceRounds) continue;
    double sum = 0;
    for (const auto& [repeat, value] : measured) sum += value;
    if (sum / measured.size() < best_mean) {
      best_mean = sum / measured.size();
      best = config;
    }
  }
  if (best.empty() || best == run.config_key) return std::nullopt;
  std::vector<double> differences;  // log(mine / best), round by round
  for (const auto& [repeat, value] : mine->second) {
    auto other = rounds[best].find(repeat);
    if (other != rounds[best].end()) differences.push_back(value - other->second);
  }
  if (differences.size() < kRaceRounds) return std::nullopt;
  const stats::Summary paired = stats::summarize(differences);
  if (paired.low() <= std::log(1.01)) return std::nullopt;  // not clearly slower
  return "raced out: " + ratio_text(paired.mean) + " slower than the best (" + labels[best] +
         ") in " + objective.metric + ", paired over " + std::to_string(differences.size()) +
         " rounds, 95% interval " + ratio_text(paired.low()) + " - " + ratio_text(paired.high());
}

}  // namespace orch
