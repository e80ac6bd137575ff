#include "host/report/html_report.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>

#include "host/base/memory_budget.h"
#include "host/base/table.h"
#include "host/base/user_error.h"
#include "host/machine/machine_busy.h"
#include "host/report/html_chart.h"
#include "host/report/html_report_charts.h"
#include "host/report/importance.h"
#include "host/report/report.h"

namespace orch {
namespace {

bool looks_numeric(const std::string& cell) {
  if (cell.empty()) return false;
  char first = cell[0];
  return (first >= '0' && first <= '9') || ((first == '-' || first == '.') && cell.size() > 1);
}

std::string html_table(const std::vector<std::string>& header,
                       const std::vector<std::vector<std::string>>& rows,
                       bool align_numbers = true) {
  std::string out = "<table>\n<thead><tr>";
  for (const auto& cell : header) out += "<th>" + html::escape(cell) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : rows) {
    out += "<tr>";
    for (const auto& cell : row) {
      out += (align_numbers && looks_numeric(cell) ? "<td class=\"num\">" : "<td>") +
             html::escape(cell) + "</td>";
    }
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

std::string config_table(const Ranking& ranking) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& config : ranking.configs) rows.push_back(config_table_cells(ranking, config));
  return html_table(config_table_columns(ranking.objective.metric), rows);
}

std::string run_table(const std::vector<storage::RunSummary>& runs) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& run : runs) rows.push_back(run_table_cells(run));
  return html_table(run_table_columns(), rows);
}

std::string machine_table(const std::string& host_json) {
  auto host = nlohmann::json::parse(host_json, nullptr, false);
  if (!host.is_object())
    return "<p>" + html::escape(host_json.empty() ? "unknown" : host_json) + "</p>\n";
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

// Each swept key's share of the objective's variance: a table with a bar per key.
std::string importance_section(const Importance& importance) {
  if (importance.knobs.empty()) {
    return "<p>not known: " + html::escape(importance.why_none) + "</p>\n";
  }
  std::string out = "<p>over " + std::to_string(importance.runs) + " ok runs, the share of " +
                    html::escape(importance.metric) +
                    "'s variance each swept key explains on its own</p>\n"
                    "<table data-chart=\"importance\">\n<tr><th>key</th><th>values</th>"
                    "<th>share</th><th></th></tr>\n";
  for (const auto& knob : importance.knobs) {
    char share[16];
    std::snprintf(share, sizeof share, "%.0f%%", 100 * knob.share);
    char width[16];
    std::snprintf(width, sizeof width, "%.1f", 200 * knob.share);
    out += "<tr><td>" + html::escape(knob.key) + "</td><td>" + std::to_string(knob.levels) +
           "</td><td>" + share +
           "</td><td><svg class=\"bar\" width=\"200\" height=\"12\"><rect width=\"" + width +
           "\" height=\"12\" fill=\"#4477aa\"/></svg></td></tr>\n";
  }
  return out + "</table>\n";
}

}  // namespace

std::string render_html_report(const HtmlReportInput& input) {
  const auto& runs = *input.runs;
  const Ranking& ranking = *input.ranking;
  std::string page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  page += "<title>orch report: " + html::escape(input.experiment) + "</title>\n<style>\n" + kStyle +
          "</style>\n</head>\n<body>\n";
  page += "<h1>orch report: " + html::escape(input.experiment) + "</h1>\n";
  page += "<p>objective: " + html::escape(ranking.objective.describe()) + "</p>\n";
  page += "<pre class=\"best\">" + html::escape(render_best(ranking)) + "</pre>\n";
  // Next to the answer, so that nobody acts on timings a busy machine slowed unaware.
  if (std::string busy = busy_notes(runs); !busy.empty()) {
    page += "<pre class=\"busy\">" + html::escape(busy) + "</pre>\n";
  }
  page += machine_table(input.host_json);
  if (input.comparison != nullptr) page += html::machine_comparison_section(*input.comparison);

  page += "<h2 id=\"configurations\">Configurations</h2>\n" + config_table(ranking);

  page += "<h2 id=\"swept\">Swept parameters</h2>\n";
  auto keys = swept_keys(runs);
  if (keys.empty()) page += "<p>nothing was swept</p>\n";
  for (const auto& key : keys) {
    page += "<h3>" + html::escape(key) + "</h3>\n<div class=\"charts\">\n" +
            html::dimension_charts(runs, key) + "</div>\n";
  }
  if (!keys.empty()) {
    page += "<pre>" + html::escape(render_dimension_tables(runs, ranking)) + "</pre>\n";
  }

  page += "<h2 id=\"importance\">What the objective depends on</h2>\n" +
          importance_section(knob_importance(runs, ranking.objective));

  page += "<h2 id=\"curves\">Training curves</h2>\n";
  int curves = 0;
  for (const auto& run : runs) {
    auto epochs = input.epochs.find(run.run_id);
    if (run.status != RunStatus::kOk || epochs == input.epochs.end() || epochs->second.empty())
      continue;
    page += "<h3>run " + std::to_string(run.run_id) + ": " + html::escape(run.swept) +
            "</h3>\n<div class=\"charts\">\n" + html::curve_charts(run, epochs->second) +
            "</div>\n";
    ++curves;
  }
  if (curves == 0) page += "<p>no run finished ok</p>\n";

  page += "<h2 id=\"runs\">Runs</h2>\n" + run_table(runs);
  // Lets a headless browser's DOM dump show that the page was parsed and its charts drawn.
  page +=
      "<script>document.body.dataset.charts = "
      "document.querySelectorAll('svg.chart').length;</script>\n</body>\n</html>\n";
  return page;
}

void write_html_report(const std::string& path, storage::Store& store, const std::string& name,
                       const std::vector<storage::RunSummary>& runs, const Ranking& ranking,
                       const MachineComparison* comparison) {
  HtmlReportInput input;
  input.comparison = comparison;
  input.experiment = name;
  input.runs = &runs;
  input.ranking = &ranking;
  input.host_json = store.latest_host_json(name);
  for (const auto& run : runs) {
    if (run.status == RunStatus::kOk) input.epochs[run.run_id] = store.epochs_of(run.run_id);
  }
  write_atomically(path, render_html_report(input));
}

}  // namespace orch
