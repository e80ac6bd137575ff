// `orch report --html FILE`: the report as one self-contained page (inline CSS and SVG,
// no network needed to view it) with charts of time, memory and training curves.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "host/report/machine_comparison.h"
#include "host/report/ranking.h"
#include "storage/store.h"

namespace orch {

// What the page shows, gathered by the caller so that rendering needs no database.
struct HtmlReportInput {
  std::string experiment;
  std::string host_json;  // experiments.host of the latest row; may be empty
  const std::vector<storage::RunSummary>* runs = nullptr;
  const Ranking* ranking = nullptr;
  std::map<std::int64_t, std::vector<storage::EpochRecord>> epochs;  // by run id
  // Several machines in the history: drawn side by side; null when there is one.
  const MachineComparison* comparison = nullptr;
};

std::string render_html_report(const HtmlReportInput& input);

// Gathers the machine and every ok run's epochs from the store, renders, and writes `path`
// atomically (path.tmp, then rename). Throws UserError naming the path when it cannot;
// nothing is left behind then.
void write_html_report(const std::string& path, storage::Store& store, const std::string& name,
                       const std::vector<storage::RunSummary>& runs, const Ranking& ranking,
                       const MachineComparison* comparison = nullptr);

}  // namespace orch
