#include "host/search/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/search/search_space.h"

namespace orch {
namespace {

Dimension real(double low, double high) {
  Dimension d;
  d.kind = Dimension::Kind::kReal;
  d.low = low;
  d.high = high;
  return d;
}

Dimension categorical(size_t choices) {
  Dimension d;
  d.kind = Dimension::Kind::kCategorical;
  d.choices = choices;
  return d;
}

Dimension integer(double low, double high) {
  Dimension d;
  d.kind = Dimension::Kind::kInteger;
  d.low = low;
  d.high = high;
  return d;
}

// The square [0, 1]^2, where a point's numbers are its unit coordinates.
SearchSpace unit_square() { return SearchSpace{{real(0, 1), real(0, 1)}}; }

std::vector<Point> first_points(SearchStrategy strategy, const SearchSpace& space,
                                std::uint64_t seed, size_t count) {
  auto sampler = make_sampler(strategy, space, seed);
  std::vector<Point> points;
  for (size_t i = 0; i < count; ++i) points.push_back(sampler->suggest({}, i));
  return points;
}

// Hickernell's centred L2 discrepancy of points in [0, 1]^2: 0 for a perfectly even
// spread, larger the more points bunch up and leave holes.
double centred_discrepancy(const std::vector<Point>& points) {
  const double n = static_cast<double>(points.size());
  double single = 0;
  double pairs = 0;
  for (const Point& a : points) {
    double product = 1;
    for (double x : a) {
      const double c = std::fabs(x - 0.5);
      product *= 1 + 0.5 * c - 0.5 * c * c;
    }
    single += product;
    for (const Point& b : points) {
      double pair = 1;
      for (size_t k = 0; k < a.size(); ++k) {
        pair *= 1 + 0.5 * std::fabs(a[k] - 0.5) + 0.5 * std::fabs(b[k] - 0.5) -
                0.5 * std::fabs(a[k] - b[k]);
      }
      pairs += pair;
    }
  }
  return std::sqrt(13.0 / 12 * 13.0 / 12 - 2 / n * single + pairs / (n * n));
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

TEST(SamplerTest, StrategiesHaveTheirWords) {
  EXPECT_STREQ(strategy_word(SearchStrategy::kGrid), "grid");
  EXPECT_STREQ(strategy_word(SearchStrategy::kRandom), "random");
  EXPECT_STREQ(strategy_word(SearchStrategy::kSobol), "sobol");
  EXPECT_STREQ(strategy_word(SearchStrategy::kBayes), "bayes");
}

TEST(SamplerTest, GridHasNoSampler) {
  EXPECT_THROW(make_sampler(SearchStrategy::kGrid, unit_square(), 0), std::invalid_argument);
}

TEST(SamplerTest, SobolRefusesASpaceWiderThanItsTableAndSaysWhatToUse) {
  SearchSpace wide;
  for (int i = 0; i < 22; ++i) wide.dimensions.push_back(real(0, 1));
  try {
    make_sampler(SearchStrategy::kSobol, wide, 0);
    FAIL() << "a 22-dimension sobol search was accepted";
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("at most 21 dimensions"), std::string::npos) << message;
    EXPECT_NE(message.find("has 22"), std::string::npos) << message;
    EXPECT_NE(message.find("\"random\" or \"bayes\""), std::string::npos) << message;
  }
  // The strategies it recommends take the space.
  for (SearchStrategy strategy : {SearchStrategy::kRandom, SearchStrategy::kBayes}) {
    auto sampler = make_sampler(strategy, wide, 0);
    EXPECT_EQ(sampler->suggest({}, 0).size(), 22u);
  }
  wide.dimensions.pop_back();
  EXPECT_EQ(make_sampler(SearchStrategy::kSobol, wide, 0)->suggest({}, 5).size(), 21u);
}

TEST(SamplerTest, RandomAndSobolReachEveryValueAndEveryTenthIn64Points) {
  const SearchSpace space{{categorical(5), real(-1, 4), integer(1, 64)}};
  for (SearchStrategy strategy : {SearchStrategy::kRandom, SearchStrategy::kSobol}) {
    for (std::uint64_t seed : {1, 2, 3}) {
      std::set<double> choices;
      std::set<int> tenths;
      std::set<int> eighths;
      for (const Point& p : first_points(strategy, space, seed, 64)) {
        EXPECT_EQ(snap(space, p), p) << "a point off the space";
        choices.insert(p[0]);
        tenths.insert(std::min(9, static_cast<int>((p[1] + 1) / 5 * 10)));
        eighths.insert(static_cast<int>((p[2] - 1) / 8));
      }
      const std::string what =
          std::string(strategy_word(strategy)) + " seed " + std::to_string(seed);
      EXPECT_EQ(choices.size(), 5u) << what;
      EXPECT_EQ(tenths.size(), 10u) << what;
      EXPECT_EQ(eighths.size(), 8u) << what;
    }
  }
}

TEST(SamplerTest, SobolPutsOnePointInEachOf64SlicesOfEveryAxis) {
  // The defining property of the first 2^m points of a Sobol sequence, whatever the seed.
  SearchSpace space;
  for (int i = 0; i < 21; ++i) space.dimensions.push_back(real(0, 1));
  for (std::uint64_t seed : {0, 7}) {
    const std::vector<Point> points = first_points(SearchStrategy::kSobol, space, seed, 64);
    for (size_t d = 0; d < space.dimensions.size(); ++d) {
      std::set<int> slices;
      for (const Point& p : points) slices.insert(static_cast<int>(p[d] * 64));
      EXPECT_EQ(slices.size(), 64u) << "axis " << d << " seed " << seed;
    }
  }
}

TEST(SamplerTest, SobolIsJoeAndKuosSequenceUnderARandomShift) {
  // Every point is the unshifted one XOR the same bits, so point n XOR point 0 is the
  // published sequence (Joe and Kuo's, as SciPy's unscrambled Sobol prints it).
  const SearchSpace cube{{real(0, 1), real(0, 1), real(0, 1)}};
  const double published[8][3] = {{0, 0, 0},
                                  {0.5, 0.5, 0.5},
                                  {0.75, 0.25, 0.25},
                                  {0.25, 0.75, 0.75},
                                  {0.375, 0.375, 0.625},
                                  {0.875, 0.875, 0.125},
                                  {0.625, 0.125, 0.875},
                                  {0.125, 0.625, 0.375}};
  const std::vector<Point> points = first_points(SearchStrategy::kSobol, cube, 42, 8);
  auto bits = [](double u) { return static_cast<std::uint32_t>(u * 4294967296.0); };
  for (size_t n = 0; n < 8; ++n) {
    for (size_t d = 0; d < 3; ++d) {
      const std::uint32_t unshifted = bits(points[n][d]) ^ bits(points[0][d]);
      EXPECT_EQ(unshifted, bits(published[n][d])) << "point " << n << " axis " << d;
    }
  }
  // The shift itself is not zero: seed 42 does not start at the origin.
  EXPECT_NE(points[0], (Point{0, 0, 0}));
}

TEST(SamplerTest, SobolSpreadsPointsMoreEvenlyThanRandom) {
  std::vector<double> sobol;
  std::vector<double> random;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    sobol.push_back(
        centred_discrepancy(first_points(SearchStrategy::kSobol, unit_square(), seed, 64)));
    random.push_back(
        centred_discrepancy(first_points(SearchStrategy::kRandom, unit_square(), seed, 64)));
  }
  const double sobol_median = median(sobol);
  const double random_median = median(random);
  std::printf(
      "centred L2 discrepancy of 64 points in 2-D, median of 20 seeds: sobol %.4f, "
      "random %.4f\n",
      sobol_median, random_median);
  EXPECT_LT(sobol_median, 0.5 * random_median);
  // Not only on the median: the most uneven sobol set beats the typical random one.
  EXPECT_LT(*std::max_element(sobol.begin(), sobol.end()), random_median);
}

TEST(SamplerTest, SameSeedAndIndexGiveTheSamePointInAnyOrder) {
  const SearchSpace space{{categorical(4), real(1e-5, 1), integer(1, 64)}};
  std::vector<Trial> history;
  for (size_t i = 0; i < 15; ++i) {
    auto sampler = make_sampler(SearchStrategy::kRandom, space, 99);
    history.push_back({sampler->suggest({}, i), static_cast<double>(i % 7), false, false});
  }
  for (SearchStrategy strategy :
       {SearchStrategy::kRandom, SearchStrategy::kSobol, SearchStrategy::kBayes}) {
    auto forward = make_sampler(strategy, space, 5);
    std::vector<Point> in_order;
    for (size_t i = 0; i < 20; ++i) in_order.push_back(forward->suggest(history, i));
    // A resumed search asks for index 19 first, with a fresh sampler.
    auto resumed = make_sampler(strategy, space, 5);
    for (size_t i = 20; i-- > 0;) {
      EXPECT_EQ(resumed->suggest(history, i), in_order[i]) << strategy_word(strategy) << " " << i;
    }
  }
}

TEST(SamplerTest, DifferentSeedsGiveDifferentSequences) {
  const SearchSpace space{{real(0, 1), real(0, 1), categorical(3)}};
  for (SearchStrategy strategy :
       {SearchStrategy::kRandom, SearchStrategy::kSobol, SearchStrategy::kBayes}) {
    const std::vector<Point> a = first_points(strategy, space, 1, 10);
    const std::vector<Point> b = first_points(strategy, space, 2, 10);
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_NE(a[i], b[i]) << strategy_word(strategy) << " point " << i;
    }
  }
  // Past bayes's quasi-random start too: the same history, another seed, another point.
  std::vector<Trial> history;
  for (const Point& p : first_points(SearchStrategy::kRandom, space, 3, 12)) {
    history.push_back({p, p[0] + p[1], false, false});
  }
  EXPECT_NE(make_sampler(SearchStrategy::kBayes, space, 1)->suggest(history, 12),
            make_sampler(SearchStrategy::kBayes, space, 2)->suggest(history, 12));
}

}  // namespace
}  // namespace orch
