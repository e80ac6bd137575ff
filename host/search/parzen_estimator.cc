#include "host/search/parzen_estimator.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace orch::search {
namespace {

// The prior kernel weighs as much as one recent observation.
constexpr double kPriorWeight = 1.0;
// Observations beyond the newest this many fade (observation_weights).
constexpr size_t kFullWeight = 25;

constexpr double kSqrtHalf = 0.7071067811865476;
constexpr double kInvSqrtTwoPi = 0.3989422804014327;

// P(lo <= Z <= hi) for a standard normal Z, from the tail that keeps the digits: far above
// the mean, 1 - erfc would round both ends to 1.
double normal_mass(double lo, double hi) {
  if (lo > 0) return 0.5 * (std::erfc(lo * kSqrtHalf) - std::erfc(hi * kSqrtHalf));
  return 0.5 * (std::erfc(-hi * kSqrtHalf) - std::erfc(-lo * kSqrtHalf));
}

// Observation weights with the prior's appended, summing to 1; the prior alone when there
// are no observations.
std::vector<double> kernel_weights(size_t observations) {
  std::vector<double> weights = observation_weights(observations);
  weights.push_back(kPriorWeight);
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  for (double& w : weights) w /= total;
  return weights;
}

// Index i with probability weights[i] (they sum to 1).
size_t pick(const std::vector<double>& weights, double u) {
  for (size_t i = 0; i + 1 < weights.size(); ++i) {
    if (u < weights[i]) return i;
    u -= weights[i];
  }
  return weights.size() - 1;
}

}  // namespace

std::vector<double> observation_weights(size_t n) {
  std::vector<double> weights(n, 1.0);
  if (n <= kFullWeight) return weights;
  // The oldest n - 25 ramp from 1/n up to 1, as numpy.linspace(1 / n, 1, n - 25).
  const size_t ramp = n - kFullWeight;
  const double first = 1.0 / static_cast<double>(n);
  for (size_t i = 0; i < ramp; ++i) {
    const double t = ramp == 1 ? 0.0 : static_cast<double>(i) / static_cast<double>(ramp - 1);
    weights[i] = first + t * (1.0 - first);
  }
  return weights;
}

NumericParzen::NumericParzen(const std::vector<double>& observations)
    : weights_(kernel_weights(observations.size())), mus_(observations) {
  mus_.push_back(0.5);  // the prior's centre, the middle of the range
  // Each kernel as wide as the larger gap to its neighbours in sorted order (the range's ends
  // count as neighbours), except the outermost two, which take their inner gap so that a
  // point near an end does not spread over the whole range.
  std::vector<size_t> order(mus_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return mus_[a] < mus_[b]; });
  std::vector<double> sorted(mus_.size() + 2);
  sorted.front() = 0;
  sorted.back() = 1;
  for (size_t i = 0; i < order.size(); ++i) sorted[i + 1] = mus_[order[i]];
  std::vector<double> sorted_sigmas(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    sorted_sigmas[i] = std::max(sorted[i + 1] - sorted[i], sorted[i + 2] - sorted[i + 1]);
  }
  if (order.size() >= 2) {
    sorted_sigmas.front() = sorted[2] - sorted[1];
    sorted_sigmas.back() = sorted[order.size()] - sorted[order.size() - 1];
  }
  // Optuna's "magic clip": no kernel narrower than the range over the number of kernels
  // (+1, at most 100), so that a few close points do not make needle-thin peaks.
  const double min_sigma = 1.0 / std::min(100.0, 1.0 + static_cast<double>(mus_.size()));
  sigmas_.resize(mus_.size());
  for (size_t i = 0; i < order.size(); ++i) {
    sigmas_[order[i]] = std::clamp(sorted_sigmas[i], min_sigma, 1.0);
  }
  sigmas_.back() = 1.0;  // the prior is as wide as the range
  for (size_t i = 0; i < mus_.size(); ++i) {
    inside_.push_back(normal_mass(-mus_[i] / sigmas_[i], (1 - mus_[i]) / sigmas_[i]));
  }
}

double NumericParzen::sample(SeededRandom& random) const {
  const size_t k = pick(weights_, random.uniform());
  // Rejection keeps the draw inside [0, 1]; every kernel has at least a third of its mass
  // there, so 64 misses in a row do not happen in practice.
  for (int attempt = 0; attempt < 64; ++attempt) {
    const double u = mus_[k] + sigmas_[k] * random.normal();
    if (u >= 0 && u <= 1) return u;
  }
  return std::clamp(mus_[k], 0.0, 1.0);
}

double NumericParzen::log_density(double u) const {
  double density = 0;
  for (size_t i = 0; i < mus_.size(); ++i) {
    const double z = (u - mus_[i]) / sigmas_[i];
    density += weights_[i] * kInvSqrtTwoPi * std::exp(-0.5 * z * z) / (sigmas_[i] * inside_[i]);
  }
  return std::log(density);
}

double NumericParzen::log_mass(double low, double high) const {
  if (!(high > low)) return log_density(low);
  double mass = 0;
  for (size_t i = 0; i < mus_.size(); ++i) {
    const double lo = (low - mus_[i]) / sigmas_[i];
    const double hi = (high - mus_[i]) / sigmas_[i];
    mass += weights_[i] * normal_mass(lo, hi) / inside_[i];
  }
  return std::log(mass);
}

CategoricalParzen::CategoricalParzen(const std::vector<size_t>& observations, size_t choices)
    : probabilities_(choices, 0.0) {
  if (choices == 0) return;
  const std::vector<double> weights = kernel_weights(observations.size());
  const double kernels = static_cast<double>(observations.size() + 1);
  // An observation's kernel: prior / kernels on every choice plus 1 on its own, normalized.
  const double smoothing = kPriorWeight / kernels;
  const double row_total = smoothing * static_cast<double>(choices) + 1.0;
  const double uniform = 1.0 / static_cast<double>(choices);
  for (size_t c = 0; c < choices; ++c) probabilities_[c] = weights.back() * uniform;
  for (size_t k = 0; k < observations.size(); ++k) {
    for (size_t c = 0; c < choices; ++c) {
      const double own = observations[k] == c ? 1.0 : 0.0;
      probabilities_[c] += weights[k] * (smoothing + own) / row_total;
    }
  }
}

size_t CategoricalParzen::sample(SeededRandom& random) const {
  return pick(probabilities_, random.uniform());
}

double CategoricalParzen::log_probability(size_t choice) const {
  return std::log(probabilities_.at(choice));
}

}  // namespace orch::search
