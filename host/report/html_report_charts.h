// Internal to host/report: the charts the HTML report draws from runs, as SVG elements
// (host/report/html_chart.h draws them).
#pragma once

#include <string>
#include <vector>

#include "host/report/machine_comparison.h"
#include "storage/store.h"

namespace orch::html {

// Epoch time and peak memory against one swept parameter's values. Values whose runs ran
// out of memory get a red cross at their peak (at zero on the time chart: they have no
// time); values only skipped as too big get a ring at zero, since nothing was measured.
std::string dimension_charts(const std::vector<storage::RunSummary>& runs, const std::string& key);

// Loss and accuracy per epoch of one run; a run of one epoch shows single points.
std::string curve_charts(const storage::RunSummary& run,
                         const std::vector<storage::EpochRecord>& epochs);

// `orch report --by machine` as a table: each measured cell its epoch time, interval and
// ratio over a bar as long as its time against the row's slowest; each empty cell why.
std::string machine_comparison_section(const MachineComparison& comparison);

}  // namespace orch::html
