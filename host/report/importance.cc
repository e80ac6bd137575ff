#include "host/report/importance.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <numeric>

#include "host/report/ranking.h"
#include "host/report/report.h"

namespace orch {
namespace {

// The run's value of `key` as a number, when it is one.
bool number_of(const std::string& text, double& out) {
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end != text.c_str() && *end == '\0';
}

// Each run's group for one key: its value, or for a numeric key of many values the bin
// of equal counts its value falls in.
std::vector<size_t> groups_of(const std::vector<std::string>& values, size_t& levels) {
  std::map<std::string, size_t> distinct;
  for (const auto& value : values) distinct.emplace(value, distinct.size());
  std::vector<double> numbers(values.size());
  bool numeric = true;
  for (size_t i = 0; i < values.size() && numeric; ++i) numeric = number_of(values[i], numbers[i]);
  std::vector<size_t> group(values.size());
  // A list keeps its values; a sampled range is binned, three runs a bin at least (a value
  // seen once explains its own run by itself).
  const size_t bins = std::clamp<size_t>(values.size() / 3, 2, kImportanceBins);
  if (!numeric || distinct.size() <= kImportanceBins) {
    for (size_t i = 0; i < values.size(); ++i) group[i] = distinct.at(values[i]);
    levels = distinct.size();
    return group;
  }
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return numbers[a] < numbers[b]; });
  for (size_t rank = 0; rank < order.size(); ++rank) {
    group[order[rank]] = rank * bins / order.size();
  }
  levels = bins;
  return group;
}

// Epsilon squared: (between-group sum of squares - (k - 1) x the within-group mean square)
// over the total sum of squares; 0 when the groups explain no more than chance would.
double explained_share(const std::vector<double>& y, const std::vector<size_t>& group,
                       size_t levels) {
  const double n = static_cast<double>(y.size());
  const double mean = std::accumulate(y.begin(), y.end(), 0.0) / n;
  std::vector<double> sum(levels, 0);
  std::vector<double> count(levels, 0);
  double total = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    sum[group[i]] += y[i];
    count[group[i]] += 1;
    total += (y[i] - mean) * (y[i] - mean);
  }
  double between = 0;
  size_t used = 0;
  for (size_t g = 0; g < levels; ++g) {
    if (count[g] == 0) continue;
    const double group_mean = sum[g] / count[g];
    between += count[g] * (group_mean - mean) * (group_mean - mean);
    ++used;
  }
  if (total <= 0 || used < 2) return 0;
  const double within_df = n - static_cast<double>(used);
  const double within_mean_square = within_df > 0 ? (total - between) / within_df : 0;
  const double share = (between - static_cast<double>(used - 1) * within_mean_square) / total;
  return std::clamp(share, 0.0, 1.0);
}

// What each pair of knobs explains together beyond their two main effects, when its
// groups hold two runs each on average and it is at least kShownInteraction.
void add_interactions(const std::vector<double>& y, const std::vector<std::vector<size_t>>& groups,
                      Importance& importance) {
  for (size_t a = 0; a < groups.size(); ++a) {
    for (size_t b = a + 1; b < groups.size(); ++b) {
      const KnobImportance& first = importance.knobs[a];
      const KnobImportance& second = importance.knobs[b];
      const size_t levels = first.levels * second.levels;
      if (levels * 2 > y.size()) continue;
      std::vector<size_t> joint(y.size());
      for (size_t i = 0; i < y.size(); ++i) joint[i] = groups[a][i] * second.levels + groups[b][i];
      const double share = explained_share(y, joint, levels) - first.share - second.share;
      if (share >= kShownInteraction) {
        importance.pairs.push_back({first.key + " x " + second.key, share, levels});
      }
    }
  }
}

}  // namespace

Importance knob_importance(const std::vector<storage::RunSummary>& runs,
                           const Objective& objective) {
  Importance importance;
  importance.metric = objective.metric;
  std::vector<const storage::RunSummary*> ok;
  std::vector<double> y;
  for (const auto& run : runs) {
    if (run.status != RunStatus::kOk) continue;
    const double value = metric_value(run, objective.metric);
    if (!std::isfinite(value)) continue;
    ok.push_back(&run);
    y.push_back(value);
  }
  importance.runs = ok.size();
  const std::vector<std::string> keys = swept_keys(runs);
  if (keys.empty()) {
    importance.why_none = "nothing was swept";
    return importance;
  }
  if (ok.size() < 4) {
    importance.why_none = "fewer than 4 runs finished ok";
    return importance;
  }
  std::vector<std::vector<size_t>> groups;  // per knob, each run's group
  for (const auto& key : keys) {
    std::vector<std::string> values;
    for (const auto* run : ok) values.push_back(grid_value(*run, key));
    KnobImportance knob;
    knob.key = key;
    std::vector<size_t> group = groups_of(values, knob.levels);
    if (knob.levels < 2) continue;      // one value among the ok runs: nothing to compare
    if (knob.levels * 2 > ok.size()) {  // a list of many values, each run nearly alone
      importance.too_few_runs.push_back(key);
      continue;
    }
    knob.share = explained_share(y, group, knob.levels);
    importance.knobs.push_back(knob);
    groups.push_back(std::move(group));
  }
  add_interactions(y, groups, importance);
  auto larger = [](const KnobImportance& a, const KnobImportance& b) { return a.share > b.share; };
  std::stable_sort(importance.knobs.begin(), importance.knobs.end(), larger);
  std::stable_sort(importance.pairs.begin(), importance.pairs.end(), larger);
  if (importance.knobs.empty()) importance.why_none = "every ok run has the same swept values";
  return importance;
}

std::string render_importance(const Importance& importance) {
  std::string out = "what " + importance.metric + " depends on";
  if (importance.knobs.empty()) return out + ": not known (" + importance.why_none + ")\n";
  out += " (" + std::to_string(importance.runs) +
         " ok runs; the share of its variance each swept key explains on its own):\n";
  size_t width = 0;
  for (const auto& knob : importance.knobs) width = std::max(width, knob.key.size());
  for (const auto& pair : importance.pairs) width = std::max(width, pair.key.size());
  auto line = [&](const KnobImportance& knob) {
    char share[16];
    std::snprintf(share, sizeof share, "%3.0f%%", 100 * knob.share);
    out += "  " + knob.key + std::string(width + 2 - knob.key.size(), ' ') + share + "  " +
           std::string(static_cast<size_t>(std::lround(30 * knob.share)), '#') + "\n";
  };
  for (const auto& knob : importance.knobs) line(knob);
  if (!importance.pairs.empty()) out += " together, beyond each key on its own:\n";
  for (const auto& pair : importance.pairs) line(pair);
  if (!importance.too_few_runs.empty()) {
    std::string keys;
    for (const auto& key : importance.too_few_runs) keys += (keys.empty() ? "" : ", ") + key;
    out += " not judged (more values than the ok runs can tell apart): " + keys + "\n";
  }
  return out;
}

}  // namespace orch
