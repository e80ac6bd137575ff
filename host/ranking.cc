#include "host/ranking.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "host/memory_budget.h"
#include "host/table.h"

namespace orch {
namespace {

// Without repeats there is no interval; run-to-run noise on a shared machine is about
// this large, so smaller differences between single runs are not called.
constexpr double kSingleRunGap = 0.02;
constexpr double kRepeatedGap = 0.01;

std::string constraint_violation(const ConfigResult& config, const Objective& objective) {
  if (config.ok == 0) return "no run finished ok";
  if (objective.max_peak_rss_bytes && config.peak_rss_bytes > *objective.max_peak_rss_bytes) {
    return "peak " + describe_bytes(config.peak_rss_bytes) + " > max_peak_memory " +
           describe_bytes(*objective.max_peak_rss_bytes);
  }
  if (objective.min_val_accuracy && std::isnan(config.val_accuracy)) {
    return "val_accuracy not measured (min_val_accuracy needs a validation pass)";
  }
  if (objective.min_val_accuracy && config.val_accuracy < *objective.min_val_accuracy) {
    return "val_accuracy " + format_fixed(config.val_accuracy, 3) + " < min_val_accuracy " +
           format_fixed(*objective.min_val_accuracy, 3);
  }
  if (objective.max_epoch_s) {
    double epoch_s = 0;
    for (const auto* run : config.runs) {
      if (run->status == "ok") epoch_s = std::max(epoch_s, run->epoch_s);
    }
    if (epoch_s > *objective.max_epoch_s) {
      return "epoch_s " + format_fixed(epoch_s, 3) + " > max_epoch_s " +
             format_fixed(*objective.max_epoch_s, 3);
    }
  }
  return "";
}

// The swept values without a halving note: repeats of a configuration share it.
std::string config_label(const std::string& swept) {
  auto note = swept.find(" (halved");
  return note == std::string::npos ? swept : swept.substr(0, note);
}

}  // namespace

double metric_value(const storage::RunSummary& run, const std::string& metric) {
  if (metric == "epoch_s") return run.epoch_s;
  if (metric == "samples_per_s") return run.samples_per_s;
  if (metric == "step_median_s") return run.step_median_s;
  if (metric == "val_accuracy") return run.val_accuracy;
  if (metric == "train_loss") return run.train_loss;
  if (metric == "peak_rss") return static_cast<double>(run.peak_rss_bytes);
  if (metric == "wall_s") return run.wall_s;
  if (metric == "val_loss") return run.val_loss;
  return 0;
}

Ranking rank_configurations(const std::vector<storage::RunSummary>& runs,
                            const Objective& objective) {
  Ranking ranking;
  ranking.objective = objective;
  std::map<std::string, size_t> index;  // config key -> position in configs
  for (const auto& run : runs) {
    std::string key = run.config_key.empty() ? run.run_key : run.config_key;
    auto [it, added] = index.emplace(key, ranking.configs.size());
    if (added) {
      ConfigResult config;
      config.label = config_label(run.swept);
      config.config_key = key;
      ranking.configs.push_back(config);
    }
    ranking.configs[it->second].runs.push_back(&run);
  }

  bool any_repeats = false;
  for (auto& config : ranking.configs) {
    std::vector<double> values;
    double accuracy = 0;
    int measured = 0;
    for (const auto* run : config.runs) {
      if (run->status != "ok") continue;
      ++config.ok;
      values.push_back(metric_value(*run, objective.metric));
      config.peak_rss_bytes = std::max(config.peak_rss_bytes, run->peak_rss_bytes);
      if (!std::isnan(run->val_accuracy)) {
        accuracy += run->val_accuracy;
        ++measured;
      }
    }
    config.metric = stats::summarize(values);
    config.val_accuracy = measured ? accuracy / measured : std::nan("");
    config.excluded = constraint_violation(config, objective);
    any_repeats = any_repeats || config.ok > 1;
  }

  const bool maximize = objective.maximize;
  std::stable_sort(ranking.configs.begin(), ranking.configs.end(),
                   [maximize](const ConfigResult& a, const ConfigResult& b) {
                     if (a.excluded.empty() != b.excluded.empty()) return a.excluded.empty();
                     if (!a.excluded.empty()) return false;
                     return maximize ? a.metric.mean > b.metric.mean : a.metric.mean < b.metric.mean;
                   });
  for (const auto& config : ranking.configs) ranking.eligible += config.excluded.empty() ? 1 : 0;

  ranking.min_relative_gap = any_repeats ? kRepeatedGap : kSingleRunGap;
  for (int i = 1; i < ranking.eligible; ++i) {
    if (stats::distinguishable(ranking.configs[0].metric, ranking.configs[i].metric,
                               ranking.min_relative_gap)) {
      continue;
    }
    ranking.tied_with_winner.push_back(&ranking.configs[i]);
  }
  return ranking;
}

}  // namespace orch
