// Several machines in one history: whose runs a ranking ranks, and `orch report --by
// machine`, the table people otherwise write by hand: configurations as rows, machines
// and their devices as columns, each cell the epoch time with its interval and its ratio
// to the row's fastest.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/store.h"

namespace orch {

// The runs one ranking ranks. Machines measure different speeds, so a ranking never mixes
// them: it ranks `requested` (a machine's name) or, by default, the machine that ran the
// experiment last. `note` says so in one line when the history holds several machines.
struct MachineChoice {
  std::vector<storage::RunSummary> runs;
  std::string note;  // empty when the runs are all one machine's
};
// Throws UserError when no run of the experiment was measured on a machine named
// `requested`, naming the machines that have.
MachineChoice choose_machine(const std::vector<storage::RunSummary>& runs,
                             const std::string& requested, std::int64_t latest_machine_id);

struct ComparisonCell {
  bool measured = false;  // an ok run's epoch time; else `missing` says why not
  double seconds = 0;     // the configuration's epoch time (the ranking's metric epoch_s)
  double low = 1;         // its 95% interval; none when low > high
  double high = 0;
  double ratio = 0;  // seconds / the row's fastest
  int ok_runs = 0;
  // "not run", "out of memory", "failed", "timed out", "device absent" (its backend
  // cannot run on that machine), "interrupted", "pruned", "running"
  std::string missing;
};

struct ComparisonColumn {
  std::int64_t machine_id = 0;
  std::string machine;  // its name; "#id" added when two machines share a name
  std::string device;   // "cpu, 2 threads", "cuda", "mps", from the backend's parameters
};

struct MachineComparison {
  std::vector<ComparisonColumn> columns;
  std::vector<std::string> rows;                   // the swept values without backend keys
  std::vector<std::vector<ComparisonCell>> cells;  // [row][column]
  int machines = 0;
};

// `runs`: every machine's latest runs of one experiment (Store::latest_runs with machine 0).
MachineComparison compare_machines(const std::vector<storage::RunSummary>& runs);

// "0.412 s [0.401, 0.430] 1.00x", or why the cell is empty.
std::string comparison_cell_text(const ComparisonCell& cell);
// "a: cpu, 2 threads"
std::string comparison_column_label(const ComparisonColumn& column);

std::string render_machine_comparison(const MachineComparison& comparison);

// `orch report --by machine --json`, versioned like the other answers for scripts:
// {"format": "orch.machines", "version": 1, "experiment": ..., "columns": [{"machine",
// "machine_id", "device"}], "rows": [{"configuration", "cells": [{"epoch_s", "interval"
// (null when none), "ratio", "ok_runs"} or {"missing": "not run"}]}]}
std::string render_machine_comparison_json(const std::string& experiment,
                                           const MachineComparison& comparison);

}  // namespace orch
