// The density models of the bayes sampler, a tree-structured Parzen estimator (Bergstra et
// al. 2011): for one dimension, one kernel per observed point plus a wide prior kernel that
// keeps every part of the range possible, built the way Optuna's TPESampler builds them.
// Numeric dimensions are modelled in unit space (search_space.h's to_unit), where log
// ranges are already linear and integers and steps have equal shares.
#pragma once

#include <cstddef>
#include <vector>

#include "host/search/seeded_random.h"

namespace orch::search {

// The weights of n observations, oldest first: equal up to 25; beyond, the older ones fade
// linearly while the newest 25 keep full weight, so a long search follows where it is now.
std::vector<double> observation_weights(size_t n);

// A mixture of Gaussians truncated to [0, 1]: one at each observation, as wide as the larger
// gap to its neighbours (clipped to [1 / min(100, kernels + 1), 1]), and the prior N(0.5, 1).
class NumericParzen {
 public:
  // `observations` in unit space, oldest first.
  explicit NumericParzen(const std::vector<double>& observations);

  double sample(SeededRandom& random) const;
  double log_density(double u) const;
  // The log of the probability of [low, high]: for an integer's or a step's share, where the
  // kernels are narrower than the share.
  double log_mass(double low, double high) const;

 private:
  std::vector<double> weights_;  // sum to 1
  std::vector<double> mus_;
  std::vector<double> sigmas_;
  std::vector<double> inside_;  // each kernel's mass within [0, 1], which truncation rescales
};

// Smoothed counts over the choices: each observation puts weight 1 on its choice and a
// little (the prior's) on every choice, and a uniform prior kernel is added.
class CategoricalParzen {
 public:
  CategoricalParzen(const std::vector<size_t>& observations, size_t choices);

  size_t sample(SeededRandom& random) const;
  double log_probability(size_t choice) const;

 private:
  std::vector<double> probabilities_;  // sum to 1
};

}  // namespace orch::search
