// The bayes strategy against the random one on problems whose answer is known.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <set>
#include <vector>

#include "host/search/sampler.h"
#include "host/search/search_space.h"

namespace orch {
namespace {

// lr 1e-5 .. 1 (log), layers-like integer 1 .. 64, and one of 4 optimizers.
SearchSpace mixed_space() {
  Dimension lr;
  lr.kind = Dimension::Kind::kReal;
  lr.low = 1e-5;
  lr.high = 1;
  lr.log = true;
  Dimension width;
  width.kind = Dimension::Kind::kInteger;
  width.low = 1;
  width.high = 64;
  Dimension optimizer;
  optimizer.kind = Dimension::Kind::kCategorical;
  optimizer.choices = 4;
  return SearchSpace{{lr, width, optimizer}};
}

// Best at lr 10^-2.5, width 40, optimizer 2, where it is 0.01.
double objective(const Point& p) {
  const double lr = std::log10(p[0]) + 2.5;
  const double width = (p[1] - 40) / 20;
  return lr * lr + width * width + (p[2] == 2 ? 0 : 1) + 0.01;
}

// What a search of `runs` points gives a user: every trial, in the order it ran.
using Outcome = std::function<Trial(const Point&)>;

std::vector<Trial> search(SearchStrategy strategy, const SearchSpace& space, std::uint64_t seed,
                          size_t runs, const Outcome& outcome) {
  auto sampler = make_sampler(strategy, space, seed);
  std::vector<Trial> history;
  for (size_t i = 0; i < runs; ++i) history.push_back(outcome(sampler->suggest(history, i)));
  return history;
}

Trial measured(const Point& p) { return Trial{p, objective(p), false, false}; }

double best_value(const std::vector<Trial>& history) {
  double best = INFINITY;
  for (const Trial& t : history) {
    if (t.value) best = std::min(best, *t.value);
  }
  return best;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

TEST(TpeSamplerTest, BayesFindsLowerValuesThanRandomIn40Runs) {
  std::vector<double> bayes;
  std::vector<double> random;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    bayes.push_back(best_value(search(SearchStrategy::kBayes, mixed_space(), seed, 40, measured)));
    random.push_back(
        best_value(search(SearchStrategy::kRandom, mixed_space(), seed, 40, measured)));
  }
  const double bayes_median = median(bayes);
  const double random_median = median(random);
  std::printf("median best of 40 runs over 20 seeds: bayes %.4f, random %.4f\n", bayes_median,
              random_median);
  EXPECT_LT(bayes_median, 0.5 * random_median);
}

TEST(TpeSamplerTest, BayesStaysOutOfARegionThatDoesNotFit) {
  // Widths above 48 run out of memory; the value depends on lr and optimizer only, so only
  // the infeasible outcomes tell the sampler where not to go.
  auto outcome = [](const Point& p) {
    if (p[1] > 48) return Trial{p, std::nullopt, true, false};
    const double lr = std::log10(p[0]) + 2.5;
    return Trial{p, lr * lr + (p[2] == 2 ? 0 : 1), false, false};
  };
  auto infeasible_after_startup = [&](SearchStrategy strategy, std::uint64_t seed) {
    const std::vector<Trial> history = search(strategy, mixed_space(), seed, 40, outcome);
    return std::count_if(history.begin() + 10, history.end(),
                         [](const Trial& t) { return t.infeasible; });
  };
  long bayes = 0;
  long random = 0;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    bayes += infeasible_after_startup(SearchStrategy::kBayes, seed);
    random += infeasible_after_startup(SearchStrategy::kRandom, seed);
  }
  std::printf("infeasible points among runs 11-40, 20 seeds (600 runs): bayes %ld, random %ld\n",
              bayes, random);
  EXPECT_LT(bayes, random / 2);
}

TEST(TpeSamplerTest, PrunedRunsNeverAttractTheSearch) {
  // Runs near x = 0.9 were pruned (with the good-looking value they had when they stopped);
  // the finished runs are best near x = 0.2. Bayes follows the finished ones.
  Dimension x;
  x.kind = Dimension::Kind::kReal;
  x.low = 0;
  x.high = 1;
  const SearchSpace line{{x}};
  std::vector<Trial> history;
  for (int i = 0; i < 20; ++i) {
    const double at = (i + 0.5) / 20;
    if (at > 0.8) {
      history.push_back({{at}, -100.0, false, true});
    } else {
      history.push_back({{at}, std::fabs(at - 0.2), false, false});
    }
  }
  auto sampler = make_sampler(SearchStrategy::kBayes, line, 3);
  int near_pruned = 0;
  int near_best = 0;
  for (size_t index = 20; index < 60; ++index) {
    const double at = sampler->suggest(history, index)[0];
    near_pruned += at > 0.8 ? 1 : 0;
    near_best += std::fabs(at - 0.2) < 0.15 ? 1 : 0;
  }
  EXPECT_LE(near_pruned, 2);
  EXPECT_GE(near_best, 30);
}

TEST(TpeSamplerTest, BayesDoesNotRepeatAPointOfASmallCategoricalSpace) {
  // 4 x 3 x 4 = 48 points; half of them tried by bayes, none twice.
  SearchSpace space;
  for (size_t choices : {4, 3, 4}) {
    Dimension d;
    d.kind = Dimension::Kind::kCategorical;
    d.choices = choices;
    space.dimensions.push_back(d);
  }
  auto outcome = [](const Point& p) {
    return Trial{p, (p[0] - 1) * (p[0] - 1) + p[1] + (p[2] == 3 ? 0 : 1), false, false};
  };
  size_t repeats = 0;
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    const std::vector<Trial> history = search(SearchStrategy::kBayes, space, seed, 24, outcome);
    std::set<Point> distinct;
    for (const Trial& t : history) distinct.insert(t.point);
    repeats += history.size() - distinct.size();
  }
  EXPECT_EQ(repeats, 0u) << "repeated points over 10 searches of 24";
}

TEST(TpeSamplerTest, BayesStartsWithTheSobolPoints) {
  // The first ten points are sobol's for the same seed, whatever the history says; a space
  // of 4 points starts with only 2 of them, and the model picks the others.
  const SearchSpace space = mixed_space();
  auto bayes = make_sampler(SearchStrategy::kBayes, space, 11);
  auto sobol = make_sampler(SearchStrategy::kSobol, space, 11);
  std::vector<Trial> history;
  for (size_t i = 0; i < 10; ++i) {
    const Point p = bayes->suggest(history, i);
    EXPECT_EQ(p, sobol->suggest({}, i)) << i;
    history.push_back(measured(p));
  }
  EXPECT_NE(bayes->suggest(history, 10), sobol->suggest({}, 10));

  Dimension pair;
  pair.kind = Dimension::Kind::kCategorical;
  pair.choices = 2;
  const SearchSpace tiny{{pair, pair}};
  const std::vector<Trial> all = search(SearchStrategy::kBayes, tiny, 4, 4, [](const Point& p) {
    return Trial{p, p[0] + p[1], false, false};
  });
  std::set<Point> distinct;
  for (const Trial& t : all) distinct.insert(t.point);
  EXPECT_EQ(distinct.size(), 4u) << "4 runs of a 4-point space left a point out";
}

}  // namespace
}  // namespace orch
