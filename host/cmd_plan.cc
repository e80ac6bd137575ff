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
    pending += finished ? 0 : 1;
    table.add_row({std::to_string(run.index + 1), run.key, run.swept_text(),
                   std::to_string(run.repeat), finished ? "done (skipped)" : "would run"});
  }
  std::cout << "experiment '" << experiment.name << "': " << runs.size() << " runs ("
            << pending << " would run)\n"
            << "backend " << experiment.sections.at("backend").plugin << ", dataset "
            << experiment.sections.at("dataset").plugin << ", model "
            << experiment.sections.at("model").plugin << "\n"
            << "memory budget per run: " << describe_bytes(run_budget(runs.front())) << "\n"
            << (experiment.auto_batch_size
                    ? "batch_size = \"auto\": probed when the sweep runs; run keys follow it\n"
                    : "")
            << "\n"
            << table.render();
  return 0;
}

}  // namespace orch
