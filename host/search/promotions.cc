#include "host/search/promotions.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace orch {
namespace {

// A NaN (a run that diverged) ranks after every number, as the pruner ranks it.
double comparable(double value) {
  return std::isnan(value) ? std::numeric_limits<double>::infinity() : value;
}

// Deepest rung first, then the better value, then the key: one order for every orch.
bool goes_first(const PausedRun& a, const PausedRun& b) {
  if (a.epoch != b.epoch) return a.epoch > b.epoch;
  if (comparable(a.value) != comparable(b.value)) return comparable(a.value) < comparable(b.value);
  return a.key < b.key;
}

}  // namespace

std::vector<PausedRun> promotable(const PruneSettings& settings, const EpochValues& reached,
                                  const std::vector<PausedRun>& paused) {
  std::vector<PausedRun> out;
  const auto reduction = static_cast<size_t>(std::max(2, settings.reduction));
  for (const PausedRun& run : paused) {
    const auto at_rung = reached.find(run.epoch);
    if (at_rung == reached.end()) continue;
    const size_t kept = at_rung->second.size() / reduction;
    // Only strictly better runs rank ahead, as at the pruner's cut.
    const double mine = comparable(run.value);
    const auto better =
        static_cast<size_t>(std::count_if(at_rung->second.begin(), at_rung->second.end(),
                                          [&](double v) { return comparable(v) < mine; }));
    if (better < kept) out.push_back(run);
  }
  std::sort(out.begin(), out.end(), goes_first);
  return out;
}

std::optional<PausedRun> leader(const std::vector<PausedRun>& paused) {
  if (paused.empty()) return std::nullopt;
  return *std::min_element(paused.begin(), paused.end(), goes_first);
}

}  // namespace orch
