// What a person reads after a sweep: the runs, the configurations ranked by the
// objective, one table per swept dimension, and the best configuration with its margin.
#pragma once

#include <string>
#include <vector>

#include "host/report/ranking.h"
#include "storage/store.h"

namespace orch {

std::string render_run_table(const std::vector<storage::RunSummary>& runs);

// The columns of the run table and one run's cells under them (the error in full, last),
// shared by the text and HTML reports.
const std::vector<std::string>& run_table_columns();
std::vector<std::string> run_table_cells(const storage::RunSummary& run);

// One row per configuration: repeats ok, the metric's mean and 95% interval, peak
// memory, accuracy, and a verdict (best, tied, fits, out of memory, failed, excluded).
std::string render_config_table(const Ranking& ranking);

// The configuration table's columns and one configuration's cells under them, shared by
// the text and HTML reports (the text adds the whole training's projection).
std::vector<std::string> config_table_columns(const std::string& metric);
std::vector<std::string> config_table_cells(const Ranking& ranking, const ConfigResult& config);

// For each swept parameter, one row per value over all runs with that value: median
// epoch time, median samples/s, highest peak memory, mean accuracy, verdict.
std::string render_dimension_tables(const std::vector<storage::RunSummary>& runs,
                                    const Ranking& ranking);

// The winner, why it won, the runner-up and the margin, or that they are tied.
std::string render_best(const Ranking& ranking);

// The whole training a configuration's runs project, "3 epochs of 3,270 samples, about
// 24 min"; empty when none could be projected.
std::string training_projection(const ConfigResult& config);

// The winner's resolved parameters as experiment-file sections, ready to paste.
std::string render_toml_snippet(const Ranking& ranking);

// A metric's value for people: "0.403 s", "20293/s", "93.0 MiB", "0.946".
std::string format_metric(const std::string& metric, double value);

// Shared by the text and HTML reports.
// A configuration's verdict: best, tied with best, fits, out of memory, failed, excluded.
std::string config_verdict(const Ranking& ranking, const ConfigResult& config);
// The swept parameter names, in the order the runs' swept text names them.
std::vector<std::string> swept_keys(const std::vector<storage::RunSummary>& runs);
// The grid value of a swept `key` for a run (the value asked for, not a halved one).
std::string grid_value(const storage::RunSummary& run, const std::string& key);
// Whether a run was skipped because a batch no larger already ran out of memory.
bool skipped_as_infeasible(const storage::RunSummary& run);
// Whether a run ran out of memory, or was skipped because a smaller batch already did.
bool ran_out_of_memory(const storage::RunSummary& run);

}  // namespace orch
