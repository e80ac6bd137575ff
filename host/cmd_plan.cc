// orch plan FILE: the runs a sweep expands to, and which of them are already done.
// Executes nothing and writes nothing.
#include <filesystem>
#include <iostream>
#include <set>

#include "host/prepared_sweep.h"
#include "host/commands.h"
#include "host/experiment.h"
#include "host/memory_budget.h"
#include "host/scheduler.h"
#include "host/sweep.h"
#include "host/table.h"
#include "storage/store.h"

namespace orch {
namespace {

std::string sql_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::set<std::string> finished_keys(const std::string& db_path, const std::string& name) {
  std::set<std::string> keys;
  std::error_code error;
  if (!std::filesystem::exists(db_path, error)) return keys;
  auto result = storage::query_read_only(
      db_path,
      "SELECT DISTINCT r.run_key FROM runs r JOIN experiments e ON e.id = r.experiment_id "
      "WHERE r.status = 'ok' AND e.name = " + sql_quote(name));
  for (const auto& row : result.rows) keys.insert(row.at(0));
  return keys;
}

// "12 combinations (from 2 model.plugin x 6 train.batch_size), 3 excluded by rules (rule
// at line 20: 3) -> 9 configurations x 2 repeats"
std::string describe_product(const Experiment& experiment, const SweepCounts& counts) {
  std::string out = std::to_string(counts.combinations) +
                    (counts.combinations == 1 ? " combination" : " combinations");
  if (experiment.sweep.empty()) {
    out += " (no [sweep])";
  } else {
    std::string factors;
    for (const auto& axis : experiment.sweep) {
      factors += (factors.empty() ? "" : " x ") + std::to_string(axis.size()) + " " + axis.label();
    }
    out += " (from " + factors + ")";
  }
  if (!experiment.exclusions.empty()) {
    std::string rules;
    for (size_t r = 0; r < experiment.exclusions.size(); ++r) {
      rules += (rules.empty() ? "" : ", ") + std::string("rule at line ") +
               std::to_string(experiment.exclusions[r].line) + ": " +
               std::to_string(counts.excluded_by_rule[r]);
    }
    out += ", " + std::to_string(counts.excluded) + " excluded by rules (" + rules + ")";
  }
  if (counts.duplicates > 0) {
    out += ", " + std::to_string(counts.duplicates) +
           " dropped as duplicates (the same parameters as an earlier combination)";
  }
  if (counts.configurations() != counts.combinations || experiment.repeats > 1) {
    out += " -> " + std::to_string(counts.configurations()) + " configurations";
    if (experiment.repeats > 1) out += " x " + std::to_string(experiment.repeats) + " repeats";
  }
  return out;
}

// "backend cpu, dataset synthetic, model mlp | memory_hog"
std::string describe_plugins(const Experiment& experiment) {
  std::string out;
  for (const auto& [section, kind] : plugin_sections()) {
    std::string names;
    for (const auto& plugin : experiment.sections.at(section).choices) {
      names += (names.empty() ? "" : " | ") + plugin;
    }
    out += (out.empty() ? "" : ", ") + section + " " + names;
  }
  return out;
}

}  // namespace

int plan_command(const Options& options) {
  PreparedSweep prepared = prepare_sweep(options);
  const Experiment& experiment = prepared.experiment;
  std::vector<RunSpec>& runs = prepared.runs;
  auto done = finished_keys(options.db_path, experiment.name);

  TextTable table({"#", "run key", "configuration", "repeat", "state"});
  int pending = 0;
  for (const auto& run : runs) {
    bool finished = done.count(run.key) > 0;
    std::string unavailable = finished ? "" : backend_unavailable(run, *prepared.catalog);
    pending += finished || !unavailable.empty() ? 0 : 1;
    std::string state = finished ? "done (skipped)"
                        : unavailable.empty() ? "would run"
                                              : "would skip: " + unavailable;
    table.add_row({std::to_string(run.index + 1), run.key, run.swept_text(),
                   std::to_string(run.repeat), state});
  }
  std::cout << "experiment '" << experiment.name << "': " << runs.size() << " runs ("
            << pending << " would run)\n"
            << describe_product(experiment, prepared.counts) << "\n"
            << describe_plugins(experiment) << "\n";
  if (!experiment.overrides.empty()) {
    std::cout << "overrides:";
    for (const auto& shown : experiment.overrides) std::cout << " " << shown;
    std::cout << "\n";
  }
  std::cout << "memory budget per run: " << describe_bytes(run_budget(runs.front())) << "\n"
            << (experiment.auto_batch_size
                    ? "batch_size = \"auto\": probed when the sweep runs; run keys follow it\n"
                    : "")
            << "\n"
            << table.render();
  return 0;
}

}  // namespace orch
