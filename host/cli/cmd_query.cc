// orch sql, orch report, orch best, orch export: reading the run history, never writing it.
#include <filesystem>
#include <iostream>

#include "host/base/table.h"
#include "host/base/user_error.h"
#include "host/cli/commands.h"
#include "host/json/best_json.h"
#include "host/json/report_json.h"
#include "host/report/html_report.h"
#include "host/report/importance.h"
#include "host/report/machine_comparison.h"
#include "host/report/query_output.h"
#include "host/report/ranking.h"
#include "host/report/report.h"
#include "host/report/task_groups.h"
#include "host/sweep/objective.h"
#include "storage/store.h"

namespace orch {
namespace {

// report and best read through Store, which would create a missing file: check first.
storage::Store open_existing(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    throw UserError("no database at " + path + "; run `orch run FILE` first or pass --db");
  }
  return storage::Store::Open(path);
}

std::string experiment_or_latest(storage::Store& store, const std::string& requested) {
  if (!requested.empty()) return requested;
  std::string latest = store.latest_experiment_name();
  if (latest.empty()) throw UserError("the database " + store.path() + " has no experiments yet");
  return latest;
}

std::vector<storage::RunSummary> runs_of(storage::Store& store, const std::string& name) {
  auto runs = store.latest_runs(name);
  if (runs.empty()) {
    throw UserError("no experiment named '" + name + "' in " + store.path() +
                    "; list them with: orch sql \"SELECT DISTINCT name FROM experiments\"");
  }
  return runs;
}

// The experiment's own [objective], with the command line's overrides on top.
Objective objective_of(storage::Store& store, const std::string& name, const Options& options) {
  Objective objective =
      objective_from_text(store.latest_experiment_text(name), "experiment '" + name + "'");
  if (!options.objective_metric.empty()) {
    toml::table table{{"metric", options.objective_metric}};
    Objective fresh = load_objective(&table, "--metric");  // checks the name
    objective.metric = fresh.metric;
    objective.maximize = fresh.maximize;
  }
  if (!options.objective_goal.empty()) objective.maximize = options.objective_goal == "maximize";
  return objective;
}

}  // namespace

int sql_command(const Options& options) {
  const bool for_people = options.sql_format == "table";
  auto result = storage::query_read_only(options.db_path, options.sql, !for_people);
  if (options.sql_format == "csv") {
    std::cout << render_csv(result);
    return 0;
  }
  if (options.sql_format == "json") {
    std::cout << render_json(result);
    return 0;
  }
  TextTable table(result.columns);
  for (auto& row : result.rows) table.add_row(row);
  std::cout << table.render() << "(" << result.rows.size() << " row"
            << (result.rows.size() == 1 ? "" : "s") << ")\n";
  return 0;
}

int export_command(const Options& options) {
  storage::Store store = open_existing(options.db_path);
  const std::string weights = store.weights_path(options.run_id);
  const std::string run = "run " + std::to_string(options.run_id);
  if (weights.empty()) {
    throw UserError(run +
                    " kept no weights: set [train] save = \"best\" (or \"all\") in the "
                    "experiment file and run it again; with \"best\" only the winning "
                    "configuration's runs keep theirs");
  }
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_regular_file(weights, error)) {
    throw UserError(run + "'s weights file " + weights + " is gone (moved or deleted)");
  }
  // Copied under a temporary name and renamed, so `-o` is never a half-written file.
  const std::string partial = options.output_path + ".partial";
  fs::copy_file(weights, partial, fs::copy_options::overwrite_existing, error);
  if (!error) fs::rename(partial, options.output_path, error);
  if (error) {
    const std::string why = error.message();
    fs::remove(partial, error);
    throw UserError("cannot write " + options.output_path + ": " + why);
  }
  std::cout << "wrote " << run << "'s weights to " << options.output_path << "\n";
  return 0;
}

int report_command(const Options& options) {
  storage::Store store = open_existing(options.db_path);
  std::string name = experiment_or_latest(store, options.experiment);
  const auto every_machine = runs_of(store, name);
  const MachineChoice chosen =
      choose_machine(every_machine, options.machine, store.latest_machine_id(name));
  const auto& runs = chosen.runs;
  Objective objective = objective_of(store, name, options);
  const auto groups = rank_by_task(runs, objective);
  const MachineComparison comparison = compare_machines(every_machine);
  // Written first: a path that cannot be written fails before anything is printed. The
  // page ranks the first group (training, when the sweep has any).
  if (!options.html_path.empty()) {
    write_html_report(
        options.html_path, store, name, runs, groups.front()->ranking,
        comparison.machines > 1 || options.report_by == "machine" ? &comparison : nullptr);
  }
  if (options.report_by == "machine") {
    if (options.json) {
      std::cout << render_machine_comparison_json(name, comparison);
      return 0;
    }
    std::cout << "experiment '" << name << "'\n\n" << render_machine_comparison(comparison);
    if (!options.html_path.empty()) std::cout << "\nHTML report: " << options.html_path << "\n";
    return 0;
  }
  if (options.json) {
    // The note on stderr: standard output is the JSON document, whole.
    if (!chosen.note.empty()) std::cerr << chosen.note << "\n";
    std::cout << render_report_json(name, runs, groups, objective);
    return 0;
  }
  std::cout << "experiment '" << name << "'\n";
  if (!chosen.note.empty()) std::cout << chosen.note << "\n";
  std::cout << "\n" << render_run_table(runs);
  for (const auto& ranked : groups) {
    if (groups.size() > 1) std::cout << "\n" << task_heading(ranked->group);
    std::cout << "\n"
              << render_config_table(ranked->ranking) << "\n"
              << render_dimension_tables(ranked->group.runs, ranked->ranking)
              << render_importance(knob_importance(ranked->group.runs, objective)) << "\n"
              << render_best(ranked->ranking);
  }
  if (!options.html_path.empty()) std::cout << "\nHTML report: " << options.html_path << "\n";
  return 0;
}

int best_command(const Options& options) {
  storage::Store store = open_existing(options.db_path);
  std::string name = experiment_or_latest(store, options.experiment);
  const MachineChoice chosen =
      choose_machine(runs_of(store, name), options.machine, store.latest_machine_id(name));
  const auto& runs = chosen.runs;
  Objective objective = objective_of(store, name, options);
  const auto groups = rank_by_task(runs, objective);
  // On stderr for --json and --toml, whose standard output a script or a file takes whole.
  if (!chosen.note.empty())
    (options.json || options.best_toml ? std::cerr : std::cout) << chosen.note << "\n";
  if (options.json) {
    std::cout << render_best_json(name, groups);
    return 0;
  }
  if (options.best_toml) {
    // One experiment file trains or infers; training is the one to paste when both ran.
    const Ranking& ranking = groups.front()->ranking;
    if (ranking.winner() == nullptr) throw UserError(render_best(ranking));
    std::cout << render_toml_snippet(ranking);
    return 0;
  }
  for (const auto& ranked : groups) {
    if (groups.size() > 1)
      std::cout << (ranked == groups.front() ? "" : "\n") << task_heading(ranked->group);
    std::cout << render_best(ranked->ranking);
  }
  return 0;
}

}  // namespace orch
