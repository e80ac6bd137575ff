#include "host/report/ranking.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "host/base/memory_budget.h"
#include "host/base/table.h"
#include "host/report/report.h"

namespace orch {
namespace {

// Without repeats there is no interval; run-to-run noise on a shared machine is about
// this large, so smaller differences between single runs are not called.
constexpr double kSingleRunGap = 0.02;
constexpr double kRepeatedGap = 0.01;

std::string constraint_violation(const ConfigResult& config, const Objective& objective) {
  if (config.ok == 0 && config.missed_target > 0) {
    return "did not reach " + objective.target->describe();
  }
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
      if (run->status == RunStatus::kOk) epoch_s = std::max(epoch_s, metric_value(*run, "epoch_s"));
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

// Keys a per-epoch measurement does not depend on: runs that differ only in these
// measured the same thing, so they are one configuration, never a winner and a runner-up.
const char* const kNotPerEpoch[] = {"train.epochs", "train.timeout", "train.on_oom"};

bool not_per_epoch(const std::string& word) {
  for (const char* key : kNotPerEpoch) {
    if (word.rfind(std::string(key) + "=", 0) == 0) return true;
  }
  return false;
}

// The label without the pooled keys, and the pooled words ("train.epochs=1") apart.
std::pair<std::string, std::vector<std::string>> split_label(const std::string& label) {
  std::istringstream words(label);
  std::string word, kept;
  std::vector<std::string> pooled;
  while (words >> word) {
    if (not_per_epoch(word)) {
      pooled.push_back(word);
    } else {
      kept += (kept.empty() ? "" : " ") + word;
    }
  }
  return {kept, pooled};
}

// Which configuration a run belongs to: its config key, or for a per-epoch metric its
// parameters without the keys that metric does not depend on.
std::string grouping_key(const storage::RunSummary& run, bool pool_epochs) {
  const std::string key = run.config_key.empty() ? run.run_key : run.config_key;
  if (!pool_epochs) return key;
  auto params = nlohmann::json::parse(run.params_json, nullptr, false);
  if (!params.is_object()) return key;
  for (const char* name : kNotPerEpoch) params.erase(name);
  // Each repeat trains with its own seed (the configuration's plus the repeat number):
  // the repeats of one configuration share the configuration's seed.
  if (auto seed = params.find("experiment.seed"); seed != params.end() && seed->is_number()) {
    *seed = seed->get<std::int64_t>() - run.repeat;
  }
  // The swept values too, without the pooled words: whatever tells two configurations
  // apart outside their parameters (a swept seed) keeps them apart.
  return params.dump() + "\n" + split_label(config_label(run.swept)).first;
}

// A single run's median interval, scaled like `metric`; empty (1, 0) when not recorded.
std::pair<double, double> run_interval(const storage::RunSummary& run, const std::string& metric) {
  const double median = run.median_epoch_s, low = run.median_epoch_low_s,
               high = run.median_epoch_high_s;
  if (!(median > 0 && low > 0 && high >= low)) return {1, 0};
  if (metric == "epoch_s") return {low, high};
  if (metric == "samples_per_s" && run.median_samples_per_s > 0) {
    return {run.median_samples_per_s * median / high, run.median_samples_per_s * median / low};
  }
  if (metric == "step_median_s" && run.step_median_s > 0) {
    return {run.step_median_s * low / median, run.step_median_s * high / median};
  }
  return {1, 0};
}

// Why `other` cannot be told apart from `best`; empty when it can.
std::string tie_reason(const ConfigResult& best, const ConfigResult& other, double floor,
                       const std::string& metric) {
  const double a = best.metric.mean, b = other.metric.mean;
  const double smaller = std::min(std::abs(a), std::abs(b));
  const double gap = smaller > 0 ? std::abs(a - b) / smaller : 0;
  if (best.has_interval() && other.has_interval() && other.low <= best.high &&
      best.low <= other.high) {
    return "its 95% interval " + format_metric(metric, other.low) + " - " +
           format_metric(metric, other.high) + " overlaps the best's " +
           format_metric(metric, best.low) + " - " + format_metric(metric, best.high);
  }
  if (gap <= floor) {
    return format_fixed(gap * 100, 1) + "% apart, under the " + format_fixed(floor * 100, 0) +
           "% that run-to-run noise moves a result";
  }
  return "";
}

// The runs grouped into configurations in the order they first appear, each labelled by
// its swept values. With `pool`, runs that differ only in keys a per-epoch metric does not
// depend on are one configuration, whose label or `pooled` says which values it holds.
std::vector<ConfigResult> group_configurations(const std::vector<storage::RunSummary>& runs,
                                               bool pool) {
  std::vector<ConfigResult> configs;
  std::map<std::string, size_t> index;  // grouping key -> position in configs
  std::vector<std::set<std::string>> pooled_words;
  for (const auto& run : runs) {
    auto [it, added] = index.emplace(grouping_key(run, pool), configs.size());
    auto [label, pooled] = split_label(config_label(run.swept));
    if (added) {
      ConfigResult config;
      config.label = pool ? label : config_label(run.swept);
      config.config_key = run.config_key.empty() ? run.run_key : run.config_key;
      configs.push_back(config);
      pooled_words.emplace_back();
    }
    configs[it->second].runs.push_back(&run);
    if (pool) pooled_words[it->second].insert(pooled.begin(), pooled.end());
  }
  // A configuration that pooled runs of several epoch counts says which.
  for (size_t i = 0; i < configs.size(); ++i) {
    if (pooled_words[i].size() < 2) {
      if (pool && pooled_words[i].size() == 1) {
        configs[i].label += (configs[i].label.empty() ? "" : " ") + *pooled_words[i].begin();
      }
      continue;
    }
    std::string pooled;
    for (const auto& word : pooled_words[i]) pooled += (pooled.empty() ? "" : ", ") + word;
    configs[i].pooled = pooled;
  }
  return configs;
}

// The configuration's numbers over its ok runs: the metric and the interval it is known
// to, the peak memory, the mean validation accuracy, and why it cannot win, if it cannot.
// Two runs: a t interval with one degree of freedom is 12.7 standard errors wide (the
// quick start's batch 8 came out at 0.742 +/- 0.666 s and "tied" with batch 2 at 2.9 s).
// What was measured is the two runs' own 95% intervals of their median steps: the span
// from the lower one's low to the higher one's high holds both runs and the gap between
// them. False, and the interval untouched, when a run has no interval of its own.
bool span_of_two_runs(ConfigResult& config, const std::string& metric) {
  double low = std::numeric_limits<double>::infinity(), high = -low;
  for (const auto* run : config.runs) {
    if (run->status != RunStatus::kOk) continue;
    const auto [run_low, run_high] = run_interval(*run, metric);
    if (run_low > run_high) return false;
    low = std::min(low, run_low);
    high = std::max(high, run_high);
  }
  config.low = low;
  config.high = high;
  return true;
}

void summarize_configuration(ConfigResult& config, const Objective& objective) {
  std::vector<double> values;
  double accuracy = 0;
  int measured = 0;
  for (const auto* run : config.runs) {
    if (run->status != RunStatus::kOk) continue;
    // A run that never reached the target has no time to it: it cannot count.
    if (objective.target && !reached_target(*run, *objective.target)) {
      ++config.missed_target;
      continue;
    }
    ++config.ok;
    values.push_back(metric_value(*run, objective.metric));
    config.peak_rss_bytes = std::max(config.peak_rss_bytes, run->peak_rss_bytes);
    if (!std::isnan(run->val_accuracy)) {
      accuracy += run->val_accuracy;
      ++measured;
    }
  }
  if (objective.metric == "time_to_target" && values.size() >= 5) {
    // MLPerf's rule: over five or more runs the fastest and the slowest are dropped.
    std::sort(values.begin(), values.end());
    values = std::vector<double>(values.begin() + 1, values.end() - 1);
  }
  config.metric = stats::summarize(values);
  if (config.ok == 2 && span_of_two_runs(config, objective.metric)) {
    config.spans_two_runs = true;
  } else if (config.ok > 1) {
    // With two or three repeats the t interval is wide; a time, rate or accuracy never
    // measured below zero has no interval below it ("-0.505 s - 4.104 s" says nothing).
    const bool never_negative =
        std::all_of(values.begin(), values.end(), [](double v) { return v >= 0; });
    config.low = never_negative ? std::max(0.0, config.metric.low()) : config.metric.low();
    config.high = config.metric.high();
  } else if (config.ok == 1) {
    for (const auto* run : config.runs) {
      if (run->status == RunStatus::kOk)
        std::tie(config.low, config.high) = run_interval(*run, objective.metric);
    }
  }
  config.val_accuracy = measured ? accuracy / measured : std::nan("");
  config.excluded = constraint_violation(config, objective);
}

// Eligible configurations first, best first by the objective; the excluded after them in
// the order they came. Counts the eligible ones.
void order_by_objective(Ranking& ranking) {
  const bool maximize = ranking.objective.maximize;
  std::stable_sort(ranking.configs.begin(), ranking.configs.end(),
                   [maximize](const ConfigResult& a, const ConfigResult& b) {
                     if (a.excluded.empty() != b.excluded.empty()) return a.excluded.empty();
                     if (!a.excluded.empty()) return false;
                     return maximize ? a.metric.mean > b.metric.mean
                                     : a.metric.mean < b.metric.mean;
                   });
  for (const auto& config : ranking.configs) ranking.eligible += config.excluded.empty() ? 1 : 0;
}

// Marks the eligible configurations after the winner that cannot be told apart from it.
void call_ties(Ranking& ranking) {
  for (int i = 1; i < ranking.eligible; ++i) {
    ConfigResult& other = ranking.configs[i];
    other.tie_reason =
        tie_reason(ranking.configs[0], other, ranking.min_relative_gap, ranking.objective.metric);
    if (!other.tie_reason.empty()) ranking.tied_with_winner.push_back(&other);
  }
}

}  // namespace

double metric_value(const storage::RunSummary& run, const std::string& metric) {
  if (metric == "epoch_s")
    return std::isfinite(run.median_epoch_s) ? run.median_epoch_s : run.epoch_s;
  if (metric == "samples_per_s") {
    return std::isfinite(run.median_samples_per_s) ? run.median_samples_per_s : run.samples_per_s;
  }
  if (metric == "step_median_s") return run.step_median_s;
  if (metric == "val_accuracy") return run.val_accuracy;
  if (metric == "train_loss") return run.train_loss;
  if (metric == "peak_rss") return static_cast<double>(run.peak_rss_bytes);
  if (metric == "wall_s") return run.wall_s;
  if (metric == "val_loss") return run.val_loss;
  if (metric == "time_to_target") return run.wall_s;  // the run stopped at the target
  return 0;
}

bool reached_target(const storage::RunSummary& run, const Target& target) {
  if (run.status != RunStatus::kOk) return false;
  if (run.stop_layer == "target") return true;
  // Reached at the last epoch, which is never stopped early.
  return target.met_by(metric_value(run, target.metric));
}

bool per_epoch_metric(const std::string& metric) {
  return metric == "epoch_s" || metric == "samples_per_s" || metric == "step_median_s";
}

Ranking rank_configurations(const std::vector<storage::RunSummary>& runs,
                            const Objective& objective) {
  Ranking ranking;
  ranking.objective = objective;
  ranking.configs = group_configurations(runs, per_epoch_metric(objective.metric));
  bool any_repeats = false;
  for (auto& config : ranking.configs) {
    summarize_configuration(config, objective);
    any_repeats = any_repeats || config.ok > 1 || config.has_interval();
  }
  order_by_objective(ranking);
  ranking.min_relative_gap = any_repeats ? kRepeatedGap : kSingleRunGap;
  call_ties(ranking);
  return ranking;
}

std::vector<std::unique_ptr<RankedGroup>> rank_by_task(const std::vector<storage::RunSummary>& runs,
                                                       const Objective& objective) {
  std::vector<std::unique_ptr<RankedGroup>> ranked;
  for (TaskGroup& group : group_by_task(runs)) {
    auto entry = std::make_unique<RankedGroup>();
    entry->group = std::move(group);
    entry->ranking = rank_configurations(entry->group.runs, objective);
    ranked.push_back(std::move(entry));
  }
  return ranked;
}

}  // namespace orch
