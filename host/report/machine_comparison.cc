#include "host/report/machine_comparison.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "host/base/table.h"
#include "host/base/user_error.h"
#include "host/report/ranking.h"
#include "host/report/report.h"

namespace orch {
namespace {

std::string machine_name(const storage::RunSummary& run) {
  return run.machine.empty() ? std::string("unknown") : run.machine;
}

// The configuration a row stands for: the swept values without the backend's, which
// name the column's device, and without a halving note.
std::string row_label(const storage::RunSummary& run) {
  std::string swept = run.swept;
  if (auto note = swept.find(" (halved"); note != std::string::npos) swept.erase(note);
  std::istringstream words(swept);
  std::string word, label;
  while (words >> word) {
    if (word.rfind("backend.", 0) == 0) continue;
    label += (label.empty() ? "" : " ") + word;
  }
  return label.empty() ? "(nothing else swept)" : label;
}

std::string device_of(const storage::RunSummary& run) {
  const auto params = nlohmann::json::parse(run.params_json, nullptr, false);
  if (!params.is_object()) return "unknown device";
  std::string device = params.value("backend.plugin", std::string("unknown device"));
  if (auto threads = params.find("backend.threads");
      threads != params.end() && threads->is_number_integer()) {
    const auto count = threads->get<std::int64_t>();
    device += count == 0   ? ", all cores"
              : count == 1 ? ", 1 thread"
                           : ", " + std::to_string(count) + " threads";
  }
  return device;
}

// Why a configuration has no epoch time on a column: the most telling of its runs' ends.
std::string why_missing(const std::vector<const storage::RunSummary*>& runs) {
  if (runs.empty()) return "not run";
  std::set<std::string> reasons;
  for (const auto* run : runs) {
    if (run->status == RunStatus::kSkipped &&
        run->error.find("is not available on this machine") != std::string::npos) {
      reasons.insert("1device absent");
    } else if (ran_out_of_memory(*run)) {
      reasons.insert("2out of memory");
    } else if (run->status == RunStatus::kFailed || run->status == RunStatus::kCrashed) {
      reasons.insert("3failed");
    } else if (run->status == RunStatus::kTimeout) {
      reasons.insert("4timed out");
    } else if (run->status == RunStatus::kPruned) {
      reasons.insert("5pruned");
    } else if (run->status == RunStatus::kInterrupted) {
      reasons.insert("6interrupted");
    } else if (run->status == RunStatus::kPending || run->status == RunStatus::kRunning) {
      reasons.insert("7running");
    } else {
      reasons.insert("8" + std::string(status_word(run->status)));
    }
  }
  return reasons.begin()->substr(1);
}

// The ranking's own epoch time and interval for one configuration's runs: the same
// numbers `orch report` shows for it on that machine.
ComparisonCell measure(const std::vector<const storage::RunSummary*>& runs) {
  ComparisonCell cell;
  std::vector<storage::RunSummary> copies;
  for (const auto* run : runs) copies.push_back(*run);
  const Ranking ranking = rank_configurations(copies, Objective{});
  for (const auto& config : ranking.configs) {
    if (config.ok == 0) continue;
    if (cell.measured && config.metric.mean >= cell.seconds) continue;
    cell.measured = true;
    cell.seconds = config.metric.mean;
    cell.low = config.low;
    cell.high = config.high;
    cell.ok_runs = config.ok;
  }
  if (!cell.measured) cell.missing = why_missing(runs);
  return cell;
}

}  // namespace

MachineChoice choose_machine(const std::vector<storage::RunSummary>& runs,
                             const std::string& requested, std::int64_t latest_machine_id) {
  std::vector<std::int64_t> ids;  // in order of first appearance
  std::map<std::int64_t, std::string> names;
  for (const auto& run : runs) {
    if (names.emplace(run.machine_id, machine_name(run)).second) ids.push_back(run.machine_id);
  }
  MachineChoice choice;
  std::int64_t chosen = latest_machine_id;
  if (!requested.empty()) {
    std::vector<std::int64_t> matching;
    for (auto id : ids) {
      if (names[id] == requested) matching.push_back(id);
    }
    if (matching.empty()) {
      std::string known;
      for (auto id : ids) known += (known.empty() ? "'" : ", '") + names[id] + "'";
      throw UserError("--machine " + requested + ": no run of this experiment was measured on " +
                      "a machine of that name; its runs are from " + known);
    }
    chosen = matching.back();  // the newest of a name two databases both used
  }
  if (ids.size() <= 1 && requested.empty()) {
    choice.runs = runs;
    return choice;
  }
  if (names.count(chosen) == 0) chosen = ids.back();
  for (const auto& run : runs) {
    if (run.machine_id == chosen) choice.runs.push_back(run);
  }
  if (ids.size() > 1) {
    choice.note = "ranking the runs of machine '" + names[chosen] + "' (" +
                  (requested.empty() ? "the latest to run this experiment" : "--machine") +
                  "), one of " + std::to_string(ids.size()) +
                  " machines in this history: `orch report --by machine` compares them, "
                  "--machine NAME ranks another's";
  }
  return choice;
}

MachineComparison compare_machines(const std::vector<storage::RunSummary>& runs) {
  MachineComparison comparison;
  // Columns and rows in the order the runs first show them.
  std::map<std::pair<std::int64_t, std::string>, size_t> column_of;
  std::map<std::string, size_t> row_of;
  std::map<std::pair<size_t, size_t>, std::vector<const storage::RunSummary*>> grouped;
  std::map<std::string, std::set<std::int64_t>> ids_by_name;
  for (const auto& run : runs) {
    const auto column_key = std::make_pair(run.machine_id, device_of(run));
    auto [column, new_column] = column_of.emplace(column_key, comparison.columns.size());
    if (new_column) {
      comparison.columns.push_back({run.machine_id, machine_name(run), column_key.second});
    }
    ids_by_name[machine_name(run)].insert(run.machine_id);
    const std::string label = row_label(run);
    auto [row, new_row] = row_of.emplace(label, comparison.rows.size());
    if (new_row) comparison.rows.push_back(label);
    grouped[{row->second, column->second}].push_back(&run);
  }
  std::set<std::int64_t> machines;
  for (auto& column : comparison.columns) {
    machines.insert(column.machine_id);
    if (ids_by_name[column.machine].size() > 1) {
      column.machine += " #" + std::to_string(column.machine_id);
    }
  }
  comparison.machines = static_cast<int>(machines.size());
  for (size_t row = 0; row < comparison.rows.size(); ++row) {
    std::vector<ComparisonCell> cells;
    double fastest = 0;
    for (size_t column = 0; column < comparison.columns.size(); ++column) {
      auto found = grouped.find({row, column});
      cells.push_back(measure(found == grouped.end() ? std::vector<const storage::RunSummary*>{}
                                                     : found->second));
      if (cells.back().measured && (fastest == 0 || cells.back().seconds < fastest)) {
        fastest = cells.back().seconds;
      }
    }
    for (auto& cell : cells) {
      if (cell.measured && fastest > 0) cell.ratio = cell.seconds / fastest;
    }
    comparison.cells.push_back(std::move(cells));
  }
  return comparison;
}

std::string comparison_cell_text(const ComparisonCell& cell) {
  if (!cell.measured) return cell.missing;
  std::string text = format_metric("epoch_s", cell.seconds);
  if (cell.low <= cell.high) {
    text += " [" + format_fixed(cell.low, 3) + ", " + format_fixed(cell.high, 3) + "]";
  }
  return text + " " + format_fixed(cell.ratio, 2) + "x";
}

std::string comparison_column_label(const ComparisonColumn& column) {
  return column.machine + ": " + column.device;
}

std::string render_machine_comparison(const MachineComparison& comparison) {
  std::vector<std::string> header = {"configuration"};
  for (const auto& column : comparison.columns) header.push_back(comparison_column_label(column));
  TextTable table(header);
  for (size_t row = 0; row < comparison.rows.size(); ++row) {
    std::vector<std::string> cells = {comparison.rows[row]};
    for (const auto& cell : comparison.cells[row]) cells.push_back(comparison_cell_text(cell));
    table.add_row(std::move(cells));
  }
  return "epoch time by machine (" + std::to_string(comparison.machines) +
         (comparison.machines == 1 ? " machine" : " machines") +
         "): the median step's epoch, [its 95% interval], and the ratio to the row's "
         "fastest\n" +
         table.render();
}

std::string render_machine_comparison_json(const std::string& experiment,
                                           const MachineComparison& comparison) {
  nlohmann::json columns = nlohmann::json::array();
  for (const auto& column : comparison.columns) {
    columns.push_back({{"machine", column.machine},
                       {"machine_id", column.machine_id},
                       {"device", column.device}});
  }
  nlohmann::json rows = nlohmann::json::array();
  for (size_t row = 0; row < comparison.rows.size(); ++row) {
    nlohmann::json cells = nlohmann::json::array();
    for (const auto& cell : comparison.cells[row]) {
      if (!cell.measured) {
        cells.push_back({{"missing", cell.missing}});
        continue;
      }
      cells.push_back({{"epoch_s", cell.seconds},
                       {"interval", cell.low <= cell.high ? nlohmann::json{cell.low, cell.high}
                                                          : nlohmann::json()},
                       {"ratio", cell.ratio},
                       {"ok_runs", cell.ok_runs}});
    }
    rows.push_back({{"configuration", comparison.rows[row]}, {"cells", cells}});
  }
  nlohmann::json out = {{"format", "orch.machines"}, {"version", 1},
                        {"experiment", experiment},  {"machines", comparison.machines},
                        {"columns", columns},        {"rows", rows}};
  return out.dump(2) + "\n";
}

}  // namespace orch
