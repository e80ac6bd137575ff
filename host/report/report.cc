#include "host/report/report.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "host/base/memory_budget.h"
#include "host/base/stats.h"
#include "host/base/table.h"
#include "host/machine/machine_busy.h"
#include "host/report/projection.h"
#include "host/run/value_text.h"
#include "orch/params.h"

namespace orch {
namespace {

bool is_winner_or_tied(const Ranking& ranking, const ConfigResult& config) {
  if (ranking.winner() == &config) return true;
  for (const auto* tied : ranking.tied_with_winner) {
    if (tied == &config) return true;
  }
  return false;
}

std::string json_value_text(const nlohmann::json& value) {
  if (value.is_string()) return to_toml(Value(value.get<std::string>()));
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number_integer()) return std::to_string(value.get<std::int64_t>());
  if (value.is_number_float()) return to_toml(Value(value.get<double>()));
  return value.dump();
}

std::string param_text(const storage::RunSummary& run, const std::string& key) {
  auto params = nlohmann::json::parse(run.params_json, nullptr, false);
  if (!params.is_object() || !params.contains(key)) return "";
  return params[key].is_string() ? params[key].get<std::string>() : params[key].dump();
}

// The best configuration's label, what it pooled, and its measurement with the interval
// it is known to.
std::string best_measurement_lines(const Ranking& ranking, const ConfigResult& best) {
  const std::string& metric = ranking.objective.metric;
  std::string out = "best (" + ranking.objective.describe() + "): " + best.label + "\n";
  if (!best.pooled.empty()) {
    out += "  one configuration: " + best.pooled + " measured the same " + metric +
           " (it is per epoch), so their runs count as repeats\n";
  }
  out += "  " + metric + " " + format_metric(metric, best.metric.mean);
  if (best.spans_two_runs) {
    out += " (2 repeats; their 95% intervals of the median step span " +
           format_metric(metric, best.low) + " - " + format_metric(metric, best.high) + ")";
  } else if (best.ok > 1) {
    out += " +/- " + format_metric(metric, best.metric.half_width) + " (95% CI, " +
           std::to_string(best.ok) + " repeats)";
  } else if (best.has_interval()) {
    out += " (95% interval of the median step: " + format_metric(metric, best.low) + " - " +
           format_metric(metric, best.high) + ")";
  }
  out += ", peak " + describe_bytes(best.peak_rss_bytes) + ", val acc " +
         format_fixed(best.val_accuracy, 3) + "\n";
  return out;
}

// What the whole training would take at the best configuration, and what that rests on;
// empty when it cannot be projected.
std::string whole_training_line(const ConfigResult& best) {
  const std::string projection = training_projection(best);
  if (projection.empty()) return "";
  const storage::RunSummary* run = best.runs.front();
  for (const auto* candidate : best.runs) {
    if (candidate->status == RunStatus::kOk) run = candidate;
  }
  const bool benchmark = param_text(*run, "train.mode") == "benchmark";
  return "  whole training: " + param_text(*run, "train.batch_size").insert(0, "batch ") + ", " +
         projection + ", peak " + describe_bytes(best.peak_rss_bytes) +
         (benchmark ? " (projected from the benchmark's steps; the peak is theirs, `orch plan` "
                      "forecasts a whole run's)"
                    : " (projected from the median step; the run took " +
                          describe_duration(run->wall_s) + ")") +
         "\n";
}

// "run 3 (key ab12), run 7 (key cd34)": the configuration's runs that finished ok.
std::string ok_run_ids(const ConfigResult& config) {
  std::string ids;
  for (const auto* run : config.runs) {
    if (run->status != RunStatus::kOk) continue;
    ids += (ids.empty() ? "" : ", ") + std::string("run ") + std::to_string(run->run_id) +
           " (key " + run->run_key + ")";
  }
  return ids;
}

std::string why_best_line(const Ranking& ranking) {
  std::string out = "  why: the " + ranking.objective.describe() + " of " +
                    std::to_string(ranking.eligible) + " configuration(s) that finished ok";
  // A pruned configuration fell behind its peers, and one that trained without reaching
  // the target was slower than any that did: neither failed, and each is said apart.
  int pruned = 0, missed = 0, excluded = 0;
  for (const auto& config : ranking.configs) {
    if (config.excluded.empty()) continue;
    const bool was_pruned = std::any_of(config.runs.begin(), config.runs.end(), [](auto* run) {
      return run->status == RunStatus::kPruned;
    });
    (config.ok == 0 && config.missed_target > 0 ? missed
     : was_pruned && config.ok == 0             ? pruned
                                                : excluded) += 1;
  }
  std::string left_out;
  if (pruned > 0) left_out += std::to_string(pruned) + " pruned";
  if (missed > 0) {
    left_out += (left_out.empty() ? "" : ", ") + std::to_string(missed) + " did not reach " +
                ranking.objective.target->describe();
  }
  if (excluded > 0) {
    left_out += (left_out.empty() ? "" : ", ") + std::to_string(excluded) +
                " excluded: failed or constrained";
  }
  if (!left_out.empty()) out += " (" + left_out + ")";
  return out + "\n";
}

std::string runner_up_lines(const Ranking& ranking, const ConfigResult& second) {
  const ConfigResult& best = *ranking.winner();
  double gap = best.metric.mean != 0
                   ? std::abs(second.metric.mean - best.metric.mean) / std::abs(best.metric.mean)
                   : 0;
  std::string out = "runner-up: " + second.label + "  " +
                    format_metric(ranking.objective.metric, second.metric.mean) + " (" +
                    format_fixed(gap * 100, 1) + "% " +
                    (ranking.objective.maximize ? "lower" : "higher") +
                    (second.tie_reason.empty() ? "" : ", tied") + ")\n";
  return out + busy_lines(second.runs);
}

std::string tied_lines(const Ranking& ranking) {
  const ConfigResult& best = *ranking.winner();
  std::string out = "tied: " + std::to_string(ranking.tied_with_winner.size()) +
                    " configuration(s) cannot be told apart from the best";
  const bool measured_noise = best.ok > 1 || best.has_interval();
  out += measured_noise ? ":"
                        : " (single runs without a measured interval; set [experiment] "
                          "repeats = 3 or more to measure the noise):";
  for (const auto* tied : ranking.tied_with_winner) {
    out += "\n  " + tied->label + ": " + tied->tie_reason;
  }
  return out + "\n";
}

}  // namespace

std::string training_projection(const ConfigResult& config) {
  // Pooled runs of several epoch counts: the longest training is the one users run.
  int epochs = 0;
  for (const auto* run : config.runs) {
    if (run->status == RunStatus::kOk && std::isfinite(run->projected_s)) {
      epochs = std::max(epochs, std::atoi(param_text(*run, "train.epochs").c_str()));
    }
  }
  double seconds = 0, samples = 0;
  int n = 0;
  for (const auto* run : config.runs) {
    if (run->status != RunStatus::kOk || !std::isfinite(run->projected_s) ||
        std::atoi(param_text(*run, "train.epochs").c_str()) != epochs) {
      continue;
    }
    seconds += run->projected_s;
    samples = run->median_samples_per_s * run->median_epoch_s;
    ++n;
  }
  if (n == 0) return "";
  return describe_training(epochs, std::isfinite(samples) ? samples : 0, seconds / n);
}

bool skipped_as_infeasible(const storage::RunSummary& run) {
  return run.status == RunStatus::kSkipped && run.error.rfind("infeasible", 0) == 0;
}

bool ran_out_of_memory(const storage::RunSummary& run) {
  return run.status == RunStatus::kOom || run.stop_layer == "cgroup" || skipped_as_infeasible(run);
}

std::string config_verdict(const Ranking& ranking, const ConfigResult& config) {
  if (ranking.winner() == &config) return "best";
  if (is_winner_or_tied(ranking, config)) return "tied with best";
  int oom = 0, other = 0;
  for (const auto* run : config.runs) {
    if (ran_out_of_memory(*run)) ++oom;
    if (run->status != RunStatus::kOk && run->status != RunStatus::kOom &&
        run->status != RunStatus::kSkipped)
      ++other;
  }
  if (config.ok == 0) return oom ? "out of memory" : (other ? "failed" : "not run");
  if (!config.excluded.empty()) return "excluded: " + config.excluded;
  return oom ? "fits (some out of memory)" : "fits";
}

std::vector<std::string> swept_keys(const std::vector<storage::RunSummary>& runs) {
  std::vector<std::string> keys;
  for (const auto& run : runs) {
    std::istringstream words(run.swept);
    std::string word;
    while (words >> word) {
      auto equals = word.find('=');
      if (equals == std::string::npos || word[0] == '(') break;  // a halving note follows
      std::string key = word.substr(0, equals);
      if (key.find('.') != std::string::npos &&
          std::find(keys.begin(), keys.end(), key) == keys.end()) {
        keys.push_back(key);
      }
    }
  }
  return keys;
}

std::string grid_value(const storage::RunSummary& run, const std::string& key) {
  std::istringstream words(run.swept);
  std::string word;
  while (words >> word) {
    if (word.rfind(key + "=", 0) == 0) return word.substr(key.size() + 1);
  }
  auto params = nlohmann::json::parse(run.params_json, nullptr, false);
  if (params.is_object() && params.contains(key)) return json_value_text(params[key]);
  return "?";
}

std::string format_metric(const std::string& metric, double value) {
  if (metric == "epoch_s" || metric == "wall_s" || metric == "time_to_target") {
    return format_fixed(value, 3) + " s";
  }
  if (metric == "step_median_s") return format_fixed(value * 1000, 3) + " ms";
  if (metric == "samples_per_s") return format_fixed(value, 0) + "/s";
  if (metric == "peak_rss") return describe_bytes(static_cast<std::int64_t>(value));
  return format_fixed(value, 4);
}

const std::vector<std::string>& run_table_columns() {
  static const std::vector<std::string> columns = {
      "run",       "configuration", "repeat",      "status", "epochs",     "epoch s",
      "samples/s", "step p50 ms",   "step p95 ms", "data %", "train loss", "val acc",
      "peak RSS",  "wall s",        "other cores", "note"};
  return columns;
}

std::vector<std::string> run_table_cells(const storage::RunSummary& run) {
  const bool ok = run.status == RunStatus::kOk;
  return {std::to_string(run.run_id),
          run.swept,
          std::to_string(run.repeat),
          status_word(run.status),
          std::to_string(run.epochs),
          ok ? format_fixed(run.epoch_s, 3) : "-",
          ok ? format_fixed(run.samples_per_s, 0) : "-",
          ok ? format_fixed(run.step_median_s * 1000, 3) : "-",
          ok ? format_fixed(run.step_p95_s * 1000, 3) : "-",
          ok ? format_fixed(run.data_fraction * 100, 1) : "-",
          ok ? format_fixed(run.train_loss, 4) : "-",
          ok ? format_fixed(run.val_accuracy, 3) : "-",
          format_bytes(run.peak_rss_bytes),
          format_fixed(run.wall_s, 2),
          other_cores_cell(run),
          run.error};
}

std::string render_run_table(const std::vector<storage::RunSummary>& runs) {
  TextTable table(run_table_columns());
  for (const auto& run : runs) {
    std::vector<std::string> cells = run_table_cells(run);
    std::string& note = cells.back();  // a terminal shows the start of a long error
    if (note.size() > 60) note = note.substr(0, 57) + "...";
    table.add_row(cells);
  }
  return table.render() + busy_notes(runs);
}

std::vector<std::string> config_table_columns(const std::string& metric) {
  return {"configuration", "ok runs", metric + " (mean)", "95% CI +/-",
          "peak RSS",      "val acc", "verdict"};
}

std::vector<std::string> config_table_cells(const Ranking& ranking, const ConfigResult& config) {
  const std::string& metric = ranking.objective.metric;
  const bool has = config.ok > 0;
  return {config.label,
          std::to_string(config.ok) + "/" + std::to_string(config.runs.size()),
          has ? format_metric(metric, config.metric.mean) : "-",
          config.ok > 1 ? format_metric(metric, config.metric.half_width) : "-",
          format_bytes(config.peak_rss_bytes),
          has ? format_fixed(config.val_accuracy, 3) : "-",
          config_verdict(ranking, config)};
}

std::string render_config_table(const Ranking& ranking) {
  std::vector<std::string> columns = config_table_columns(ranking.objective.metric);
  columns.push_back("whole training");
  TextTable table(columns);
  for (const auto& config : ranking.configs) {
    std::vector<std::string> cells = config_table_cells(ranking, config);
    // Runs that stop at a target do not train every epoch: no whole training to project.
    const bool projects = config.ok > 0 && !ranking.objective.target;
    cells.push_back(projects ? training_projection(config) : "-");
    table.add_row(cells);
  }
  return table.render();
}

std::string render_dimension_tables(const std::vector<storage::RunSummary>& runs,
                                    const Ranking& ranking) {
  std::string out;
  const ConfigResult* winner = ranking.winner();
  for (const auto& key : swept_keys(runs)) {
    // Values in the order they first appear: the sweep's own order.
    std::vector<std::string> values;
    std::map<std::string, std::vector<const storage::RunSummary*>> by_value;
    for (const auto& run : runs) {
      std::string value = grid_value(run, key);
      if (!by_value.count(value)) values.push_back(value);
      by_value[value].push_back(&run);
    }
    std::string winning_value = winner ? grid_value(*winner->runs.front(), key) : "";
    TextTable table({key, "runs ok", "epoch s (median)", "samples/s (median)", "peak RSS (max)",
                     "val acc (mean)", "verdict"});
    for (const auto& value : values) {
      std::vector<double> epoch_s, rate;
      double accuracy = 0;
      std::int64_t peak = 0;
      int ok = 0, oom = 0, failed = 0;
      for (const auto* run : by_value[value]) {
        peak = std::max(peak, run->peak_rss_bytes);
        if (run->status == RunStatus::kOk) {
          ++ok;
          epoch_s.push_back(run->epoch_s);
          rate.push_back(run->samples_per_s);
          accuracy += run->val_accuracy;
        } else if (ran_out_of_memory(*run)) {
          ++oom;
        } else if (run->status != RunStatus::kSkipped) {
          ++failed;
        }
      }
      std::string verdict_text = value == winning_value ? "best"
                                 : ok && oom            ? "fits (some out of memory)"
                                 : ok                   ? "fits"
                                 : oom                  ? "out of memory"
                                 : failed               ? "failed"
                                                        : "not run";
      table.add_row({value, std::to_string(ok) + "/" + std::to_string(by_value[value].size()),
                     ok ? format_fixed(stats::median(epoch_s), 3) : "-",
                     ok ? format_fixed(stats::median(rate), 0) : "-", format_bytes(peak),
                     ok ? format_fixed(accuracy / ok, 3) : "-", verdict_text});
    }
    out += table.render() + "\n";
  }
  return out;
}

std::string render_best(const Ranking& ranking) {
  const ConfigResult* best = ranking.winner();
  if (best == nullptr) {
    return ranking.configs.empty() || ranking.configs[0].ok == 0
               ? "best: no run finished ok\n"
               : "best: no configuration met the objective's constraints\n";
  }
  std::string out = best_measurement_lines(ranking, *best);
  if (!ranking.objective.target) out += whole_training_line(*best);
  out += "  " + ok_run_ids(*best) + "\n";
  out += busy_lines(best->runs);
  out += why_best_line(ranking);
  if (const ConfigResult* second = ranking.runner_up()) out += runner_up_lines(ranking, *second);
  if (!ranking.tied_with_winner.empty()) out += tied_lines(ranking);
  return out;
}

std::string render_toml_snippet(const Ranking& ranking) {
  const ConfigResult* best = ranking.winner();
  if (best == nullptr) return "";
  const storage::RunSummary* run = nullptr;
  for (const auto* candidate : best->runs) {
    if (candidate->status == RunStatus::kOk) run = candidate;
  }
  auto params = nlohmann::json::parse(run ? run->params_json : "", nullptr, false);
  if (!params.is_object()) return "";
  std::string out =
      "# best (" + ranking.objective.describe() + ") from orch: " + best->label + "\n";
  for (const char* section : {"backend", "dataset", "model", "train"}) {
    out += std::string("\n[") + section + "]\n";
    std::string prefix = std::string(section) + ".";
    if (params.contains(prefix + "plugin")) {
      out += "plugin = " + json_value_text(params[prefix + "plugin"]) + "\n";
    }
    for (const auto& [key, value] : params.items()) {
      if (key.rfind(prefix, 0) != 0 || key == prefix + "plugin") continue;
      out += key.substr(prefix.size()) + " = " + json_value_text(value) + "\n";
    }
  }
  return out;
}

}  // namespace orch
