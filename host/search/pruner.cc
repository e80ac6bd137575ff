// The two rules. Both compare only within one epoch, so runs that started later are judged
// against what the others had at the same point of training, not at the end. The reasons
// name ranks and counts, never the value: the caller prefixes the metric with its real
// (un-negated) value, which this side cannot know.
#include "host/search/pruner.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace orch {
namespace {

// A NaN (a run that diverged) ranks after every number, so it is never the reason another
// run looks good and is itself the first to go.
double comparable(double value) {
  return std::isnan(value) ? std::numeric_limits<double>::infinity() : value;
}

std::vector<double> reported_at(const EpochValues& seen, int epoch) {
  std::vector<double> values;
  const auto found = seen.find(epoch);
  if (found == seen.end()) return values;
  for (double v : found->second) values.push_back(comparable(v));
  return values;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

// 1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, ..., 21st.
std::string ordinal(size_t n) {
  const char* suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1) suffix = "st";
    if (n % 10 == 2) suffix = "nd";
    if (n % 10 == 3) suffix = "rd";
  }
  return std::to_string(n) + suffix;
}

void check(const PruneSettings& settings) {
  if (settings.min_epochs < 1) {
    throw std::invalid_argument("prune min_epochs is " + std::to_string(settings.min_epochs) +
                                ": it counts epochs from 1, so it must be at least 1");
  }
  if (settings.rule == PruneRule::kAsha && settings.reduction < 2) {
    throw std::invalid_argument("prune reduction is " + std::to_string(settings.reduction) +
                                ": asha keeps 1 run in `reduction` at each rung, so it must be "
                                "at least 2");
  }
}

// Stops a run that is worse than the median of the others at the same epoch, once there are
// enough others (3) for the median to mean something.
class MedianPruner final : public Pruner {
 public:
  explicit MedianPruner(int min_epochs) : min_epochs_(min_epochs) {}

  std::optional<std::string> should_prune(const EpochValues& seen, int epoch,
                                          double value) const override {
    if (epoch < min_epochs_) return std::nullopt;
    const std::vector<double> others = reported_at(seen, epoch);
    if (others.size() < 3) return std::nullopt;
    if (!(comparable(value) > median(others))) return std::nullopt;  // a tie goes on
    return "at epoch " + std::to_string(epoch) + ", worse than the median of " +
           std::to_string(others.size()) + " other runs there";
  }

 private:
  int min_epochs_;
};

// Asynchronous successive halving (Li et al. 2018): at each rung a run goes on only while it
// is among the best 1/reduction of the runs that reached that rung so far. Asynchronous: it
// is judged against whoever got there first, and nobody waits for the rest. With
// `promote`, a run that does not go on is paused instead (host/search/promotions.h).
class AshaPruner final : public Pruner {
 public:
  explicit AshaPruner(const PruneSettings& settings) : settings_(settings) {}

  std::optional<std::string> should_prune(const EpochValues& seen, int epoch,
                                          double value) const override {
    if (!is_rung(epoch)) return std::nullopt;
    const std::vector<double> others = reported_at(seen, epoch);
    const size_t runs = others.size() + 1;
    const auto reduction = static_cast<size_t>(settings_.reduction);
    // Stopping for good, the first runs at a rung go on (at least the best one), since
    // nobody could take them up again later; pausing, a rung first needs `reduction` runs.
    const size_t kept =
        settings_.promote ? runs / reduction : std::max<size_t>(1, runs / reduction);
    // Only strictly better runs rank ahead, so a tie at the cut goes on.
    const double mine = comparable(value);
    const size_t rank = 1 + static_cast<size_t>(std::count_if(others.begin(), others.end(),
                                                              [&](double v) { return v < mine; }));
    if (rank <= kept) return std::nullopt;
    std::string cut = "the cut was at the " + ordinal(kept) + " best";
    if (kept == 1) cut = "only the best goes on";
    if (kept == 0) cut = "none goes on before " + std::to_string(reduction) + " runs reached it";
    std::string why = "at epoch " + std::to_string(epoch) + ", an ASHA rung, ranked " +
                      ordinal(rank) + " of " + std::to_string(runs) +
                      " runs there: not in the best 1/" + std::to_string(reduction) + " (" + cut +
                      ")";
    if (settings_.promote)
      why += "; it goes on if the runs after it put it in the best 1/" + std::to_string(reduction);
    return why;
  }

 private:
  // min_epochs x reduction^k, in integers so that no rung is missed to rounding.
  bool is_rung(int epoch) const {
    if (epoch < settings_.min_epochs || epoch % settings_.min_epochs != 0) return false;
    int ratio = epoch / settings_.min_epochs;
    while (ratio % settings_.reduction == 0) ratio /= settings_.reduction;
    return ratio == 1;
  }

  PruneSettings settings_;
};

}  // namespace

const char* prune_word(PruneRule rule) {
  switch (rule) {
    case PruneRule::kNone:
      return "none";
    case PruneRule::kMedian:
      return "median";
    case PruneRule::kAsha:
      return "asha";
  }
  return "none";  // not reached: every rule has its word
}

std::vector<int> rungs(const PruneSettings& settings, int epochs) {
  std::vector<int> out;
  if (settings.rule == PruneRule::kNone) return out;
  check(settings);
  if (settings.rule == PruneRule::kMedian) {
    for (int epoch = settings.min_epochs; epoch <= epochs; ++epoch) out.push_back(epoch);
    return out;
  }
  // In 64 bits: the last multiplication may pass what an int holds before it passes `epochs`.
  for (long long rung = settings.min_epochs; rung <= epochs; rung *= settings.reduction) {
    out.push_back(static_cast<int>(rung));
  }
  return out;
}

std::vector<int> rungs_before_the_end(const PruneSettings& settings, int epochs) {
  std::vector<int> out = rungs(settings, epochs);
  out.erase(std::remove_if(out.begin(), out.end(), [&](int rung) { return rung >= epochs; }),
            out.end());
  return out;
}

std::unique_ptr<Pruner> make_pruner(const PruneSettings& settings) {
  if (settings.rule == PruneRule::kNone) return nullptr;
  check(settings);
  if (settings.rule == PruneRule::kMedian) {
    return std::make_unique<MedianPruner>(settings.min_epochs);
  }
  return std::make_unique<AshaPruner>(settings);
}

}  // namespace orch
