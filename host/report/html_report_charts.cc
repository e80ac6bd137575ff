#include "host/report/html_report_charts.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "host/base/stats.h"
#include "host/report/html_chart.h"
#include "host/report/report.h"

namespace orch::html {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;
const char* const kBlue = "#1f77b4";
const char* const kOrange = "#ff7f0e";
const char* const kGreen = "#2ca02c";
const char* const kPurple = "#9467bd";
const char* const kRed = "#d62728";

bool parse_number(const std::string& text, double& value) {
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size() && std::isfinite(value);
}

bool is_power_of_two(double value) {
  if (value < 1 || value != std::floor(value) || value > 9e15) return false;
  auto n = static_cast<std::int64_t>(value);
  return (n & (n - 1)) == 0;
}

// A swept parameter's values in axis order and where each sits: linear for numbers, log2
// for powers of two over a wide range (batch sizes 2..1024 would crowd a linear axis), and
// evenly spaced in sweep order for anything else.
struct Placement {
  std::vector<std::string> values;
  std::vector<double> xs;
  Axis axis;
};

Placement place_values(const std::string& key, std::vector<std::string> values) {
  Placement place;
  place.axis.label = key;
  std::vector<std::pair<double, std::string>> numbers;
  bool integer = true, powers = true;
  for (const auto& value : values) {
    double x = 0;
    if (!parse_number(value, x)) {
      place.values = values;
      for (size_t i = 0; i < values.size(); ++i) {
        place.xs.push_back(i);
        place.axis.ticks.emplace_back(i, values[i]);
      }
      return place;
    }
    integer = integer && x == std::floor(x);
    powers = powers && is_power_of_two(x);
    numbers.emplace_back(x, value);
  }
  std::sort(numbers.begin(), numbers.end());
  bool log_scale = powers && numbers.size() >= 3 && numbers.back().first >= 8 * numbers[0].first;
  for (const auto& [x, value] : numbers) {
    place.values.push_back(value);
    place.xs.push_back(log_scale ? std::log2(x) : x);
    if (log_scale) place.axis.ticks.emplace_back(std::log2(x), value);
  }
  place.axis.integer = integer;
  if (log_scale) place.axis.label += " (log scale)";
  return place;
}

}  // namespace

std::string dimension_charts(const std::vector<storage::RunSummary>& runs, const std::string& key) {
  std::vector<std::string> sweep_order;
  for (const auto& run : runs) {
    std::string value = grid_value(run, key);
    if (std::find(sweep_order.begin(), sweep_order.end(), value) == sweep_order.end()) {
      sweep_order.push_back(value);
    }
  }
  Placement place = place_values(key, sweep_order);
  Chart time{"time:" + key, "epoch time vs " + key, place.axis, {"epoch time (s)", false, true}};
  Chart memory{
      "memory:" + key, "peak memory vs " + key, place.axis, {"peak RSS (MiB)", false, true}};
  Series time_ok{"median of ok runs", kBlue}, memory_ok{"max of ok runs", kBlue};
  Series oom{"out of memory", kRed, Marker::kCross}, memory_oom = oom;
  Series skipped{"skipped, too big", kRed, Marker::kRing};
  for (size_t i = 0; i < place.values.size(); ++i) {
    const double x = place.xs[i];
    std::vector<double> epoch_s;
    std::int64_t ok_peak = 0, oom_peak = 0;
    bool ran_oom = false, skipped_oom = false;
    for (const auto& run : runs) {
      if (grid_value(run, key) != place.values[i]) continue;
      if (run.status == RunStatus::kOk) {
        epoch_s.push_back(run.epoch_s);
        ok_peak = std::max(ok_peak, run.peak_rss_bytes);
      } else if (skipped_as_infeasible(run)) {
        skipped_oom = true;
      } else if (ran_out_of_memory(run)) {
        ran_oom = true;
        oom_peak = std::max(oom_peak, run.peak_rss_bytes);
      }
    }
    if (!epoch_s.empty()) {
      time_ok.points.emplace_back(x, stats::median(epoch_s));
      memory_ok.points.emplace_back(x, ok_peak / kMiB);
    }
    if (ran_oom) {
      oom.points.emplace_back(x, 0);
      memory_oom.points.emplace_back(x, oom_peak / kMiB);
    } else if (skipped_oom) {
      skipped.points.emplace_back(x, 0);
    }
  }
  time.series = {time_ok, oom, skipped};
  memory.series = {memory_ok, memory_oom, skipped};
  return render_chart(time) + render_chart(memory);
}

std::string curve_charts(const storage::RunSummary& run,
                         const std::vector<storage::EpochRecord>& epochs) {
  const std::string run_name = "run " + std::to_string(run.run_id);
  Chart loss{"loss:" + std::to_string(run.run_id), "loss, " + run_name, {"epoch", true}, {"loss"}};
  Chart accuracy{"accuracy:" + std::to_string(run.run_id),
                 "accuracy, " + run_name,
                 {"epoch", true},
                 {"accuracy", false, true}};
  Series train_loss{"train loss", kBlue}, val_loss{"val loss", kOrange};
  Series val_accuracy{"val accuracy", kGreen}, train_accuracy{"train accuracy", kPurple};
  auto add = [](Series& series, int epoch, double value) {
    if (!std::isnan(value)) series.points.emplace_back(epoch, value);  // NaN: not measured
  };
  for (const auto& epoch : epochs) {
    add(train_loss, epoch.epoch, epoch.train_loss);
    add(val_loss, epoch.epoch, epoch.val_loss);
    add(val_accuracy, epoch.epoch, epoch.val_accuracy);
    add(train_accuracy, epoch.epoch, epoch.train_accuracy);
  }
  loss.series = {train_loss, val_loss};
  accuracy.series = {val_accuracy, train_accuracy};
  return render_chart(loss) + render_chart(accuracy);
}

std::string machine_comparison_section(const MachineComparison& comparison) {
  std::string out =
      "<h2 id=\"machines\">Machines side by side</h2>\n<p>epoch time of each configuration on "
      "each machine and device: the median step's epoch, [its 95% interval], and the ratio "
      "to the row's fastest</p>\n<table data-chart=\"machines\">\n<tr><th>configuration</th>";
  for (const auto& column : comparison.columns) {
    out += "<th>" + escape(comparison_column_label(column)) + "</th>";
  }
  out += "</tr>\n";
  for (size_t row = 0; row < comparison.rows.size(); ++row) {
    const auto& cells = comparison.cells[row];
    double slowest = 0;
    for (const auto& cell : cells) {
      if (cell.measured) slowest = std::max(slowest, cell.seconds);
    }
    out += "<tr><td>" + escape(comparison.rows[row]) + "</td>";
    for (const auto& cell : cells) {
      if (!cell.measured) {
        out += "<td class=\"missing\"><em>" + escape(cell.missing) + "</em></td>";
        continue;
      }
      char width[16];
      std::snprintf(width, sizeof width, "%.1f", slowest > 0 ? 160 * cell.seconds / slowest : 0);
      const bool fastest = cell.ratio <= 1.0;
      out += "<td class=\"num\">" + escape(comparison_cell_text(cell)) +
             "<br><svg class=\"bar\" width=\"160\" height=\"10\"><rect width=\"" + width +
             "\" height=\"10\" fill=\"" + (fastest ? "#228833" : "#4477aa") + "\"/></svg></td>";
    }
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

}  // namespace orch::html
