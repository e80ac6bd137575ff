#include "host/machine/machine_busy.h"

#include <algorithm>
#include <cmath>

#include "host/base/table.h"

namespace orch {

bool machine_was_busy(double other_cpu_cores) {
  return std::isfinite(other_cpu_cores) && other_cpu_cores >= kBusyOtherCores;
}

std::string epoch_ranges(const std::vector<int>& epochs) {
  std::string out;
  for (size_t i = 0; i < epochs.size();) {
    size_t j = i;
    while (j + 1 < epochs.size() && epochs[j + 1] == epochs[j] + 1) ++j;
    out += (out.empty() ? "" : ", ") + std::to_string(epochs[i]);
    if (j > i) out += "-" + std::to_string(epochs[j]);
    i = j + 1;
  }
  return out;
}

std::string describe_busy(std::int64_t run_id, double run_other_cpu_cores,
                          const std::vector<storage::EpochRecord>& epochs) {
  std::vector<int> busy;
  double busy_cores = 0, dispersion = std::nan("");
  for (const auto& epoch : epochs) {
    if (!machine_was_busy(epoch.other_cpu_cores)) continue;
    busy.push_back(epoch.epoch);
    busy_cores += epoch.other_cpu_cores;
    if (std::isfinite(epoch.step_dispersion)) {
      dispersion = std::isfinite(dispersion) ? std::max(dispersion, epoch.step_dispersion)
                                             : epoch.step_dispersion;
    }
  }
  if (busy.empty() && !machine_was_busy(run_other_cpu_cores)) return "";
  std::sort(busy.begin(), busy.end());
  const bool whole_run = busy.empty() || busy.size() == epochs.size();
  const double cores = whole_run && std::isfinite(run_other_cpu_cores)
                           ? run_other_cpu_cores
                           : busy_cores / static_cast<double>(busy.size());
  std::string out = "machine busy: other processes used " + format_fixed(cores, 1) +
                    " cores during run " + std::to_string(run_id);
  if (!busy.empty()) {
    out += std::string(" (epoch") + (busy.size() > 1 ? "s " : " ") + epoch_ranges(busy) + ")";
  }
  if (std::isfinite(dispersion)) {
    out += "; step p95 was " + format_fixed(1 + dispersion, 1) + "x the median";
  }
  return out;
}

std::string busy_notes(const std::vector<storage::RunSummary>& runs) {
  std::string out;
  for (const auto& run : runs) {
    if (!run.busy.empty()) out += run.busy + "\n";
    if (!run.resumed.empty()) out += run.resumed + "\n";
  }
  return out;
}

std::string busy_lines(const std::vector<const storage::RunSummary*>& runs) {
  std::string out;
  for (const auto* run : runs) {
    if (!run->busy.empty()) out += "  " + run->busy + "\n";
    if (!run->resumed.empty()) out += "  " + run->resumed + "\n";
  }
  return out;
}

std::string other_cores_cell(const storage::RunSummary& run) {
  if (!std::isfinite(run.other_cpu_cores)) return "-";
  return format_fixed(run.other_cpu_cores, 2) + (run.busy.empty() ? "" : " busy");
}

}  // namespace orch
