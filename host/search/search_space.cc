#include "host/search/search_space.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace orch {
namespace {

bool categorical(const Dimension& dimension) {
  return dimension.kind == Dimension::Kind::kCategorical;
}

// The last value on the grid, short of `high` when the step does not divide the range. The
// slack keeps 0.3 / 0.1 (2.9999...) from losing its last step to rounding.
double grid_top(const Dimension& dimension, double step) {
  const double steps = std::floor((dimension.high - dimension.low) / step + 1e-9);
  return dimension.low + std::max(0.0, steps) * step;
}

// The interval, in log space for a log dimension, that [0, 1] maps onto linearly.
struct Axis {
  double lo = 0;
  double hi = 0;
};

Axis axis_of(const Dimension& dimension) {
  double lo = dimension.low;
  double hi = dimension.high;
  const double step = grid_step(dimension);
  if (step > 0) {
    // Half a step beyond either end, so that the end values get as wide a share as the rest.
    lo = dimension.low - step / 2;
    hi = grid_top(dimension, step) + step / 2;
    // A log range cannot reach 0: its lowest value then gets a smaller share.
    if (dimension.log && lo <= 0) lo = dimension.low;
  }
  if (dimension.log) return {std::log(lo), std::log(hi)};
  return {lo, hi};
}

double snap_value(const Dimension& dimension, double value) {
  if (categorical(dimension)) {
    if (dimension.choices == 0) return 0;
    const double last = static_cast<double>(dimension.choices - 1);
    return std::clamp(std::round(value), 0.0, last);
  }
  const double step = grid_step(dimension);
  if (step <= 0) return std::clamp(value, dimension.low, dimension.high);
  const double k = std::round((value - dimension.low) / step);
  double snapped = std::clamp(dimension.low + k * step, dimension.low, grid_top(dimension, step));
  if (dimension.kind == Dimension::Kind::kInteger) snapped = std::round(snapped);
  return snapped;
}

}  // namespace

double grid_step(const Dimension& dimension) {
  if (categorical(dimension)) return 0;
  if (dimension.step > 0) return dimension.step;
  return dimension.kind == Dimension::Kind::kInteger ? 1.0 : 0.0;
}

double from_unit(const Dimension& dimension, double value) {
  // NaN goes to the low end rather than through std::clamp, which it would pass unchanged.
  value = value >= 0 ? std::min(value, 1.0) : 0.0;
  if (categorical(dimension)) {
    // floor(u * choices), with u = 1 clamped onto the last index by snap_value.
    return snap_value(dimension, std::floor(value * static_cast<double>(dimension.choices)));
  }
  const Axis axis = axis_of(dimension);
  const double t = axis.lo + value * (axis.hi - axis.lo);
  return snap_value(dimension, dimension.log ? std::exp(t) : t);
}

double to_unit(const Dimension& dimension, double value) {
  if (categorical(dimension)) {
    if (dimension.choices == 0) return 0.5;
    return (snap_value(dimension, value) + 0.5) / static_cast<double>(dimension.choices);
  }
  const Axis axis = axis_of(dimension);
  if (!(axis.hi > axis.lo)) return 0.5;  // a single value: the middle of nothing
  if (dimension.log && !(value > 0)) return 0;
  const double t = dimension.log ? std::log(value) : value;
  return std::clamp((t - axis.lo) / (axis.hi - axis.lo), 0.0, 1.0);
}

Point snap(const SearchSpace& space, Point point) {
  if (point.size() != space.dimensions.size()) {
    throw std::invalid_argument("a point of " + std::to_string(point.size()) +
                                " numbers does not fit a search space of " +
                                std::to_string(space.dimensions.size()) + " dimensions");
  }
  for (size_t i = 0; i < point.size(); ++i) point[i] = snap_value(space.dimensions[i], point[i]);
  return point;
}

}  // namespace orch
