#include "host/schedule/search_points.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "host/sweep/sweep.h"
#include "host/sweep/sweep_rules.h"

namespace orch {
namespace {

Dimension numeric_dimension(const SweepAxis& axis, const SweptRange& range) {
  Dimension dimension;
  dimension.name = axis.label();
  dimension.kind = range.integer ? Dimension::Kind::kInteger : Dimension::Kind::kReal;
  dimension.low = range.from;
  dimension.high = range.to;
  dimension.log = range.log;
  dimension.step = range.step;
  return dimension;
}

// 0.0031622776601683794 is 0.003162: what a user reads in the table and types back.
double four_digits(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return std::strtod(text, nullptr);
}

Value sampled_value(const Dimension& dimension, double coordinate) {
  if (dimension.kind == Dimension::Kind::kInteger) {
    return Value(static_cast<std::int64_t>(std::llround(coordinate)));
  }
  return Value(dimension.step > 0 ? coordinate : four_digits(coordinate));
}

}  // namespace

SearchSpace search_space(const Experiment& experiment) {
  SearchSpace space;
  for (const SweepAxis& axis : experiment.sweep) {
    const SweptKey& first = axis.keys.front();
    if (!axis.zipped && first.range) {
      space.dimensions.push_back(numeric_dimension(axis, *first.range));
      continue;
    }
    Dimension dimension;
    dimension.name = axis.label();
    dimension.choices = axis.size();
    space.dimensions.push_back(dimension);
  }
  return space;
}

std::vector<RunSpec> runs_of_point(const Experiment& experiment, const SearchSpace& space,
                                   const Point& point) {
  Experiment narrowed = experiment;
  narrowed.exclusions.clear();  // checked below, on the resolved run
  for (size_t i = 0; i < narrowed.sweep.size(); ++i) {
    const Dimension& dimension = space.dimensions.at(i);
    for (SweptKey& key : narrowed.sweep[i].keys) {
      RawValue picked = key.values.front();
      if (dimension.kind == Dimension::Kind::kCategorical) {
        picked = key.values.at(static_cast<size_t>(point.at(i)));
      } else {
        picked.value = sampled_value(dimension, point.at(i));
      }
      key.values = {picked};
    }
  }
  std::vector<RunSpec> runs = expand_sweep(narrowed);
  for (const ExcludeRule& rule : experiment.exclusions) {
    if (!runs.empty() && excludes(rule, runs.front().sections)) return {};
  }
  return runs;
}

}  // namespace orch
