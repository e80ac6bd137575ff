// Statistics for honest comparisons: medians and percentiles of step times, means with
// 95% confidence intervals over repeats, and ties when the difference is inside the noise.
#pragma once

#include <cstddef>
#include <vector>

namespace orch::stats {

// Median of `values` (average of the two middle values for an even count); 0 when empty.
double median(std::vector<double> values);

// The p-th percentile, p in [0, 100], by linear interpolation between closest ranks
// (numpy's default "linear" method); 0 when empty.
double percentile(std::vector<double> values, double p);

// Two-sided 95% critical value of Student's t with `dof` degrees of freedom (dof >= 1);
// exact to 3 decimals for dof <= 30, then interpolated towards 1.960.
double t_critical_95(std::size_t dof);

struct Summary {
  std::size_t n = 0;
  double mean = 0;
  double stddev = 0;      // sample standard deviation (n - 1); 0 when n < 2
  double half_width = 0;  // of the 95% confidence interval of the mean; 0 when n < 2
  double low() const { return mean - half_width; }
  double high() const { return mean + half_width; }
  // half_width / |mean|; 0 when the mean is 0
  double relative_half_width() const;
};

Summary summarize(const std::vector<double>& values);

// The distribution-free 95% confidence interval of the median: the order statistics at
// ranks n/2 -+ 0.98 sqrt(n) (normal approximation of the binomial). Unlike a mean's
// interval, a few stalled steps barely widen it. {0, 0} when empty.
struct Interval {
  double low = 0;
  double high = 0;
};
Interval median_interval_95(std::vector<double> values);

// Whether two measured quantities can be told apart: their 95% intervals do not overlap
// and their means differ by more than `min_relative_gap` of the smaller magnitude. With
// no interval (n < 2 on both sides) only the relative gap decides.
bool distinguishable(const Summary& a, const Summary& b, double min_relative_gap = 0.01);

}  // namespace orch::stats
