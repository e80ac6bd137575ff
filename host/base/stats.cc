#include "host/base/stats.h"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace orch::stats {
namespace {

// Two-sided 95% critical values of Student's t (the 0.975 quantile) for dof 1..30.
constexpr double kTable[30] = {
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,  // 1..10
    2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,  // 11..20
    2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,  // 21..30
};

// Sparse points above 30, ending with the normal limit 1.960 at dof = infinity (1/dof = 0).
struct TPoint {
  double dof;  // 0 stands for infinity
  double t;
};
constexpr TPoint kTail[] = {{30, 2.042}, {40, 2.021}, {60, 2.000}, {120, 1.980}, {0, 1.960}};

double inverse(double dof) { return dof == 0 ? 0.0 : 1.0 / dof; }

}  // namespace

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  const auto mid = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), mid, values.end());
  if (values.size() % 2 == 1) return *mid;
  // Everything before `mid` is <= *mid, so the lower middle value is the largest of them.
  const double lower = *std::max_element(values.begin(), mid);
  return (lower + *mid) / 2;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  p = std::clamp(p, 0.0, 100.0);
  // numpy's "linear" method: rank = p/100 * (n - 1), interpolated between the values at
  // floor(rank) and ceil(rank) of the sorted data.
  const double rank = p / 100.0 * static_cast<double>(values.size() - 1);
  const auto lo_index = static_cast<std::size_t>(std::floor(rank));
  const double frac = rank - static_cast<double>(lo_index);
  const auto lo = values.begin() + static_cast<std::ptrdiff_t>(lo_index);
  std::nth_element(values.begin(), lo, values.end());
  if (frac == 0 || std::next(lo) == values.end()) return *lo;
  // Everything after `lo` is >= *lo, so the next value in sorted order is the smallest of them.
  const double hi = *std::min_element(std::next(lo), values.end());
  return *lo + frac * (hi - *lo);
}

double t_critical_95(std::size_t dof) {
  if (dof == 0) return 0;  // no degrees of freedom, no interval
  if (dof <= 30) return kTable[dof - 1];
  // Above 30 the table is sparse (40, 60, 120, infinity); interpolate linearly in 1/dof,
  // in which t is nearly linear, so the result stays within ~0.001 of the exact value.
  const double x = 1.0 / static_cast<double>(dof);
  for (std::size_t i = 0; i + 1 < std::size(kTail); ++i) {
    const double x0 = inverse(kTail[i].dof);
    const double x1 = inverse(kTail[i + 1].dof);
    if (x <= x0 && x >= x1) {
      const double w = (x0 - x) / (x0 - x1);
      return kTail[i].t + w * (kTail[i + 1].t - kTail[i].t);
    }
  }
  return 1.960;  // not reached: x is in (0, 1/30)
}

double Summary::relative_half_width() const {
  if (mean == 0) return 0;
  return half_width / std::fabs(mean);
}

Summary summarize(const std::vector<double>& values) {
  Summary s;
  s.n = values.size();
  if (s.n == 0) return s;
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(s.n);
  if (s.n < 2) return s;
  double squares = 0;  // two-pass: sum of squared deviations from the mean
  for (double v : values) squares += (v - s.mean) * (v - s.mean);
  s.stddev = std::sqrt(squares / static_cast<double>(s.n - 1));
  s.half_width = t_critical_95(s.n - 1) * s.stddev / std::sqrt(static_cast<double>(s.n));
  return s;
}

bool distinguishable(const Summary& a, const Summary& b, double min_relative_gap) {
  // Nothing measured on one side: there is nothing to tell apart.
  if (a.n == 0 || b.n == 0) return false;
  // Intervals that touch count as overlapping (a tie). Without intervals (n < 2) they are
  // single points, so for different means this check passes and the gap alone decides.
  const bool separated = a.high() < b.low() || b.high() < a.low();
  if (!separated) return false;
  const double gap = std::fabs(a.mean - b.mean);
  const double smaller = std::min(std::fabs(a.mean), std::fabs(b.mean));
  return gap > min_relative_gap * smaller;
}

Interval median_interval_95(std::vector<double> values) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  const double n = static_cast<double>(values.size());
  const double spread = 0.98 * std::sqrt(n);  // 1.96 / 2 standard deviations of the rank
  auto rank = [&](double r) {
    r = std::min(std::max(r, 0.0), n - 1);
    return values[static_cast<std::size_t>(r)];
  };
  return {rank(std::floor(n / 2 - spread)), rank(std::ceil(n / 2 + spread) - 1)};
}

}  // namespace orch::stats
