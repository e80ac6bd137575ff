#include "host/report/html_report.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "host/base/memory_budget.h"
#include "host/base/stats.h"
#include "host/base/table.h"
#include "host/base/user_error.h"
#include "host/machine/machine_busy.h"
#include "host/report/report.h"

namespace orch {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;
const char* const kBlue = "#1f77b4";
const char* const kOrange = "#ff7f0e";
const char* const kGreen = "#2ca02c";
const char* const kPurple = "#9467bd";
const char* const kRed = "#d62728";

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Coordinates are written with one decimal: enough for a 480-pixel chart, and stable text.
std::string px(double value) { return format_fixed(value, 1); }

// Dots joined by a line for measurements; crosses and rings, unjoined, for runs without one.
enum class Marker { kDot, kCross, kRing };

struct Series {
  std::string name;
  std::string color;
  Marker marker = Marker::kDot;
  std::vector<std::pair<double, double>> points;
};

struct Axis {
  std::string label;
  bool integer = false;       // ticks at whole numbers only (epochs, batch sizes)
  bool include_zero = false;  // time and memory start at zero so that ratios read true
  // When set, the ticks: positions and labels (categories, or values on a log scale).
  std::vector<std::pair<double, std::string>> ticks;
};

struct Chart {
  std::string id;  // data-chart, for tests and scripts
  std::string title;
  Axis x, y;
  std::vector<Series> series;
};

struct Ticks {
  double low = 0, high = 1, step = 1;
  int decimals = 0;
};

// Heckbert's nice numbers: about five ticks at 1, 2 or 5 times a power of ten.
Ticks nice_ticks(double low, double high, bool integer) {
  if (!(high > low)) {
    double pad = integer ? 1 : (low == 0 ? 1 : std::abs(low) * 0.5);
    low -= low == 0 ? 0 : pad;
    high += pad;
  }
  double raw = (high - low) / 5;
  double magnitude = std::pow(10, std::floor(std::log10(raw)));
  double fraction = raw / magnitude;
  Ticks ticks;
  ticks.step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude;
  if (integer) ticks.step = std::max(ticks.step, 1.0);
  ticks.low = std::floor(low / ticks.step + 1e-9) * ticks.step;
  ticks.high = std::ceil(high / ticks.step - 1e-9) * ticks.step;
  ticks.decimals = std::max(0, static_cast<int>(-std::floor(std::log10(ticks.step) + 1e-9)));
  return ticks;
}

std::pair<double, double> data_range(const Chart& chart, bool x_axis) {
  double low = INFINITY, high = -INFINITY;
  for (const auto& series : chart.series) {
    for (const auto& [x, y] : series.points) {
      low = std::min(low, x_axis ? x : y);
      high = std::max(high, x_axis ? x : y);
    }
  }
  if (low > high) return {0, 1};
  return {low, high};
}

std::string marker(const Series& series, double x, double y) {
  if (series.marker == Marker::kDot) {
    return "<circle cx=\"" + px(x) + "\" cy=\"" + px(y) + "\" r=\"3.5\" fill=\"" + series.color +
           "\"/>";
  }
  if (series.marker == Marker::kRing) {
    return "<circle cx=\"" + px(x) + "\" cy=\"" + px(y) + "\" r=\"4.5\" fill=\"none\" stroke=\"" +
           series.color + "\" stroke-width=\"2\"/>";
  }
  const double arm = 5;
  return "<path d=\"M" + px(x - arm) + " " + px(y - arm) + "L" + px(x + arm) + " " + px(y + arm) +
         "M" + px(x - arm) + " " + px(y + arm) + "L" + px(x + arm) + " " + px(y - arm) +
         "\" stroke=\"" + series.color + "\" stroke-width=\"2.5\"/>";
}

// A line and point chart with a fixed size, gridlines at nice ticks (or the axis's own
// ticks), axis labels and a legend.
std::string render_chart(Chart chart) {
  // A diverged run's NaN or infinite loss has no place on an axis: leave those points out.
  for (auto& series : chart.series) {
    auto& points = series.points;
    points.erase(std::remove_if(points.begin(), points.end(),
                                [](const auto& p) {
                                  return !std::isfinite(p.first) || !std::isfinite(p.second);
                                }),
                 points.end());
  }
  const double width = 480, height = 280, left = 64, right = 16, top = 52, bottom = 46;
  const double inset = 10;  // keeps points off the axes
  const double plot_w = width - left - right, plot_h = height - top - bottom;

  Ticks xt, yt;
  auto [x_low, x_high] = data_range(chart, true);
  if (!chart.x.ticks.empty()) {
    xt.low = chart.x.ticks.front().first;
    xt.high = chart.x.ticks.back().first;
    if (!(xt.high > xt.low)) xt.low -= 1, xt.high += 1;
  } else {
    xt = nice_ticks(x_low, x_high, chart.x.integer);
  }
  auto [y_low, y_high] = data_range(chart, false);
  if (chart.y.include_zero) y_low = std::min(y_low, 0.0);
  yt = nice_ticks(y_low, y_high, chart.y.integer);
  auto sx = [&](double x) {
    return left + inset + (x - xt.low) / (xt.high - xt.low) * (plot_w - 2 * inset);
  };
  auto sy = [&](double y) {
    return top + plot_h - inset - (y - yt.low) / (yt.high - yt.low) * (plot_h - 2 * inset);
  };

  std::ostringstream svg;
  svg << "<svg class=\"chart\" data-chart=\"" << escape(chart.id) << "\" width=\"" << width
      << "\" height=\"" << height << "\" viewBox=\"0 0 " << width << " " << height
      << "\" role=\"img\">\n<title>" << escape(chart.title) << "</title>\n";
  svg << "<text class=\"title\" x=\"" << px(width / 2) << "\" y=\"18\">" << escape(chart.title)
      << "</text>\n";
  svg << "<rect class=\"plot\" x=\"" << left << "\" y=\"" << top << "\" width=\"" << plot_w
      << "\" height=\"" << plot_h << "\"/>\n";

  for (int i = 0; yt.low + i * yt.step <= yt.high + yt.step * 1e-6; ++i) {
    double value = yt.low + i * yt.step, y = sy(value);
    svg << "<line class=\"grid\" x1=\"" << left << "\" x2=\"" << left + plot_w << "\" y1=\""
        << px(y) << "\" y2=\"" << px(y) << "\"/><text class=\"ytick\" x=\"" << left - 6 << "\" y=\""
        << px(y + 4) << "\">" << format_fixed(value, yt.decimals) << "</text>\n";
  }
  std::vector<std::pair<double, std::string>> x_ticks = chart.x.ticks;
  if (x_ticks.empty()) {
    for (int i = 0; xt.low + i * xt.step <= xt.high + xt.step * 1e-6; ++i) {
      double value = xt.low + i * xt.step;
      x_ticks.emplace_back(value, format_fixed(value, xt.decimals));
    }
  }
  for (auto [value, label] : x_ticks) {
    if (label.size() > 14) label = label.substr(0, 13) + "...";
    double x = sx(value);
    svg << "<line class=\"tick\" x1=\"" << px(x) << "\" x2=\"" << px(x) << "\" y1=\""
        << top + plot_h << "\" y2=\"" << top + plot_h + 5 << "\"/><text class=\"xtick\" x=\""
        << px(x) << "\" y=\"" << top + plot_h + 18 << "\">" << escape(label) << "</text>\n";
  }
  svg << "<text class=\"xlabel\" x=\"" << px(left + plot_w / 2) << "\" y=\"" << height - 8 << "\">"
      << escape(chart.x.label) << "</text>\n";
  svg << "<text class=\"ylabel\" transform=\"translate(16 " << px(top + plot_h / 2)
      << ") rotate(-90)\">" << escape(chart.y.label) << "</text>\n";

  // About 6 pixels a character at 11px: the legend moves left rather than run off the chart.
  auto legend_width = [](const Series& series) { return 28 + 6.2 * series.name.size(); };
  double legend_x = 0;
  for (const auto& series : chart.series)
    legend_x += series.points.empty() ? 0 : legend_width(series);
  legend_x = std::max(8.0, std::min(left, width - 8 - legend_x));
  for (const auto& series : chart.series) {
    if (series.points.empty()) continue;
    svg << marker(series, legend_x + 6, 36) << "<text class=\"legend\" x=\"" << px(legend_x + 16)
        << "\" y=\"40\">" << escape(series.name) << "</text>\n";
    legend_x += legend_width(series);
  }
  for (const auto& series : chart.series) {
    if (series.marker == Marker::kDot && series.points.size() > 1) {
      svg << "<polyline fill=\"none\" stroke=\"" << series.color
          << "\" stroke-width=\"2\" points=\"";
      for (const auto& [x, y] : series.points) svg << px(sx(x)) << "," << px(sy(y)) << " ";
      svg << "\"/>\n";
    }
    for (const auto& [x, y] : series.points) svg << marker(series, sx(x), sy(y));
    if (!series.points.empty()) svg << "\n";
  }
  svg << "</svg>\n";
  return svg.str();
}

bool looks_numeric(const std::string& cell) {
  if (cell.empty()) return false;
  char first = cell[0];
  return (first >= '0' && first <= '9') || ((first == '-' || first == '.') && cell.size() > 1);
}

std::string html_table(const std::vector<std::string>& header,
                       const std::vector<std::vector<std::string>>& rows,
                       bool align_numbers = true) {
  std::string out = "<table>\n<thead><tr>";
  for (const auto& cell : header) out += "<th>" + escape(cell) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : rows) {
    out += "<tr>";
    for (const auto& cell : row) {
      out += (align_numbers && looks_numeric(cell) ? "<td class=\"num\">" : "<td>") + escape(cell) +
             "</td>";
    }
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

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

// Epoch time and peak memory against one swept parameter's values. Values whose runs ran
// out of memory get a red cross at their peak (at zero on the time chart: they have no
// time); values only skipped as too big get a ring at zero, since nothing was measured.
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
      if (run.status == "ok") {
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

// Loss and accuracy per epoch of one run; a run of one epoch shows single points.
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

std::string config_table(const Ranking& ranking) {
  const std::string& metric = ranking.objective.metric;
  std::vector<std::vector<std::string>> rows;
  for (const auto& config : ranking.configs) {
    bool has = config.ok > 0;
    rows.push_back(
        {config.label, std::to_string(config.ok) + "/" + std::to_string(config.runs.size()),
         has ? format_metric(metric, config.metric.mean) : "-",
         config.ok > 1 ? format_metric(metric, config.metric.half_width) : "-",
         format_bytes(config.peak_rss_bytes), has ? format_fixed(config.val_accuracy, 3) : "-",
         config_verdict(ranking, config)});
  }
  return html_table({"configuration", "ok runs", metric + " (mean)", "95% CI +/-", "peak RSS",
                     "val acc", "verdict"},
                    rows);
}

std::string run_table(const std::vector<storage::RunSummary>& runs) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& run : runs) rows.push_back(run_table_cells(run));
  return html_table(run_table_columns(), rows);
}

std::string machine_table(const std::string& host_json) {
  auto host = nlohmann::json::parse(host_json, nullptr, false);
  if (!host.is_object())
    return "<p>" + escape(host_json.empty() ? "unknown" : host_json) + "</p>\n";
  std::vector<std::vector<std::string>> rows;
  // Plain words for people: sizes in GiB, {"kind": "netlib", ...} as "kind netlib, ...",
  // a list as its items.
  const std::function<std::string(const std::string&, const nlohmann::json&)> words =
      [&](const std::string& key, const nlohmann::json& value) -> std::string {
    const bool bytes = key.size() > 6 && key.compare(key.size() - 6, 6, "_bytes") == 0;
    if (bytes && value.is_number()) return describe_bytes(value.get<std::int64_t>());
    if (value.is_string()) return value.get<std::string>();
    if (!value.is_structured()) return value.dump();
    std::string text;
    for (const auto& [inner_key, inner] : value.items()) {
      text += (text.empty() ? "" : ", ") + (value.is_object() ? inner_key + " " : "") +
              words(inner_key, inner);
    }
    return text.empty() ? "none" : text;
  };
  for (const auto& [key, value] : host.items()) rows.push_back({key, words(key, value)});
  return html_table({"machine", ""}, rows, false);
}

const char* const kStyle = R"(
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;
  margin:24px;color:#222;max-width:1200px}
h1{font-size:22px;margin:0 0 8px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
h3{font-size:15px;margin:16px 0 4px}
pre{background:#f6f6f6;padding:10px;overflow-x:auto}
pre.best{white-space:pre-wrap}
pre.busy{white-space:pre-wrap;background:#fff4e0;border-left:4px solid #e69500}
table{border-collapse:collapse;margin:6px 0}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0}
td.num{white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:12px}
svg.chart{background:#fff;border:1px solid #e4e4e4}
svg .plot{fill:none;stroke:#999}
svg .grid{stroke:#eee}
svg .tick{stroke:#999}
svg text{font:11px system-ui,Helvetica,Arial,sans-serif;fill:#333}
svg .title{font-size:13px;font-weight:600;text-anchor:middle}
svg .ytick{text-anchor:end}
svg .xtick,svg .xlabel,svg .ylabel{text-anchor:middle}
)";

void write_atomically(const std::string& path, const std::string& text) {
  const std::string temp = path + ".tmp";
  auto failure = [&](int error) {
    return UserError("cannot write the HTML report to " + path + ": " + std::strerror(error));
  };
  std::FILE* file = std::fopen(temp.c_str(), "wb");
  if (file == nullptr) throw failure(errno);
  // Flushed to disk before the rename, so a crash leaves the old file or the whole new one.
  bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size() &&
                 std::fflush(file) == 0 && ::fsync(::fileno(file)) == 0;
  int error = errno;
  if (std::fclose(file) != 0 && written) {
    written = false;
    error = errno;
  }
  if (written && std::rename(temp.c_str(), path.c_str()) == 0) return;
  if (written) error = errno;
  std::remove(temp.c_str());
  throw failure(error);
}

}  // namespace

std::string render_html_report(const HtmlReportInput& input) {
  const auto& runs = *input.runs;
  const Ranking& ranking = *input.ranking;
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += "<title>orch report: " + escape(input.experiment) + "</title>\n<style>\n" + kStyle +
          "</style>\n</head>\n<body>\n";
  html += "<h1>orch report: " + escape(input.experiment) + "</h1>\n";
  html += "<p>objective: " + escape(ranking.objective.describe()) + "</p>\n";
  html += "<pre class=\"best\">" + escape(render_best(ranking)) + "</pre>\n";
  // Next to the answer, so that nobody acts on timings a busy machine slowed unaware.
  if (std::string busy = busy_notes(runs); !busy.empty()) {
    html += "<pre class=\"busy\">" + escape(busy) + "</pre>\n";
  }
  html += machine_table(input.host_json);

  html += "<h2 id=\"configurations\">Configurations</h2>\n" + config_table(ranking);

  html += "<h2 id=\"swept\">Swept parameters</h2>\n";
  auto keys = swept_keys(runs);
  if (keys.empty()) html += "<p>nothing was swept</p>\n";
  for (const auto& key : keys) {
    html += "<h3>" + escape(key) + "</h3>\n<div class=\"charts\">\n" + dimension_charts(runs, key) +
            "</div>\n";
  }
  if (!keys.empty()) html += "<pre>" + escape(render_dimension_tables(runs, ranking)) + "</pre>\n";

  html += "<h2 id=\"curves\">Training curves</h2>\n";
  int curves = 0;
  for (const auto& run : runs) {
    auto epochs = input.epochs.find(run.run_id);
    if (run.status != "ok" || epochs == input.epochs.end() || epochs->second.empty()) continue;
    html += "<h3>run " + std::to_string(run.run_id) + ": " + escape(run.swept) +
            "</h3>\n<div class=\"charts\">\n" + curve_charts(run, epochs->second) + "</div>\n";
    ++curves;
  }
  if (curves == 0) html += "<p>no run finished ok</p>\n";

  html += "<h2 id=\"runs\">Runs</h2>\n" + run_table(runs);
  // Lets a headless browser's DOM dump show that the page was parsed and its charts drawn.
  html +=
      "<script>document.body.dataset.charts = "
      "document.querySelectorAll('svg.chart').length;</script>\n</body>\n</html>\n";
  return html;
}

void write_html_report(const std::string& path, storage::Store& store, const std::string& name,
                       const std::vector<storage::RunSummary>& runs, const Ranking& ranking) {
  HtmlReportInput input;
  input.experiment = name;
  input.runs = &runs;
  input.ranking = &ranking;
  input.host_json = store.latest_host_json(name);
  for (const auto& run : runs) {
    if (run.status == "ok") input.epochs[run.run_id] = store.epochs_of(run.run_id);
  }
  write_atomically(path, render_html_report(input));
}

}  // namespace orch
