// The space a search samples, as numbers: one dimension per axis of the [sweep]. A list
// (or a [[sweep.zip]] group) is categorical over its values; a range is sampled
// continuously between its ends, integers as integers, a log range in log space, a range
// with a step only on its steps. A point holds one number per dimension: the index of
// the value for a categorical one, the value itself otherwise.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace orch {

struct Dimension {
  enum class Kind { kCategorical, kReal, kInteger };
  std::string name;  // the axis as written: "train.lr", "zip(train.batch_size, train.lr)"
  Kind kind = Kind::kCategorical;
  size_t choices = 0;  // kCategorical: how many values; a point holds 0 .. choices-1
  double low = 0;      // kReal, kInteger: both ends included
  double high = 0;
  bool log = false;  // sampled uniformly in log space (low > 0)
  double step = 0;   // > 0: only low + k * step (k = 0, 1, ...) up to high
};

struct SearchSpace {
  std::vector<Dimension> dimensions;
};

using Point = std::vector<double>;

// The distance between neighbouring values of a dimension that has them: its step, 1 for
// an integer one without a step, 0 for a continuous or categorical one.
double grid_step(const Dimension& dimension);

// `value` in [0, 1) mapped onto `dimension`: an index, or a value rounded to the
// dimension's integers and steps, in log space for a log dimension. Each index, integer or
// step gets an equal share of [0, 1) (of the log range, for a log dimension): the range is
// widened by half a step at either end before rounding, as Optuna does, so that the ends
// are not half as likely as the rest.
double from_unit(const Dimension& dimension, double value);
// The inverse, for a model that works in [0, 1]: the middle of a categorical index's cell,
// the middle of an integer's or step's share. Not rounded, so that value +- half a step
// gives the ends of that share.
double to_unit(const Dimension& dimension, double value);
// A point as a sampler may return it, snapped onto the space (indices whole, integers
// rounded, steps kept, ends clamped). Throws std::invalid_argument for a point with another
// number of dimensions.
Point snap(const SearchSpace& space, Point point);

}  // namespace orch
