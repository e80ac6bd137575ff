#include "host/search/search_space.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

namespace orch {
namespace {

Dimension integer(double low, double high) {
  Dimension d;
  d.kind = Dimension::Kind::kInteger;
  d.low = low;
  d.high = high;
  return d;
}

Dimension real(double low, double high, bool log = false, double step = 0) {
  Dimension d;
  d.kind = Dimension::Kind::kReal;
  d.low = low;
  d.high = high;
  d.log = log;
  d.step = step;
  return d;
}

Dimension categorical(size_t choices) {
  Dimension d;
  d.kind = Dimension::Kind::kCategorical;
  d.choices = choices;
  return d;
}

// `count` evenly spread unit values, each in the middle of its slice of [0, 1).
template <typename F>
void for_each_unit(int count, F f) {
  for (int i = 0; i < count; ++i) f((i + 0.5) / count);
}

TEST(SearchSpaceTest, IntegersAreWholeAndEachGetsAnEqualShare) {
  // batch_size 1..64: the ends are as likely as the middle, not half as likely.
  const Dimension batch = integer(1, 64);
  std::map<double, int> counts;
  for_each_unit(6400, [&](double u) {
    const double v = from_unit(batch, u);
    EXPECT_EQ(v, std::round(v));
    ++counts[v];
  });
  ASSERT_EQ(counts.size(), 64u);
  EXPECT_EQ(counts.begin()->first, 1);
  EXPECT_EQ(counts.rbegin()->first, 64);
  for (const auto& [value, count] : counts) EXPECT_EQ(count, 100) << "value " << value;
}

TEST(SearchSpaceTest, StepsAreKeptAndNeverPassTheHighEnd) {
  // dropout 0.1 .. 0.95 step 0.2: 0.1, 0.3, 0.5, 0.7, 0.9; 0.95 is not a step.
  const Dimension dropout = real(0.1, 0.95, false, 0.2);
  std::set<double> seen;
  for_each_unit(1000, [&](double u) { seen.insert(from_unit(dropout, u)); });
  ASSERT_EQ(seen.size(), 5u);
  const double expected[] = {0.1, 0.3, 0.5, 0.7, 0.9};
  size_t i = 0;
  for (double v : seen) EXPECT_NEAR(v, expected[i++], 1e-12);
}

TEST(SearchSpaceTest, LogDimensionsSpreadEvenlyOverTheDecades) {
  // lr 1e-5 .. 1: each of the five decades gets a fifth of the points, as a user who wrote
  // log = true expects (a linear range would put 90% in the last decade).
  const Dimension lr = real(1e-5, 1, true);
  int per_decade[5] = {};
  for_each_unit(5000, [&](double u) {
    const double v = from_unit(lr, u);
    ASSERT_GE(v, 1e-5);
    ASSERT_LE(v, 1);
    ++per_decade[std::min(4, static_cast<int>(std::floor(std::log10(v) + 5)))];
  });
  for (int count : per_decade) EXPECT_EQ(count, 1000);
  // to_unit undoes it.
  EXPECT_NEAR(to_unit(lr, 1e-3), 0.4, 1e-12);
  EXPECT_NEAR(from_unit(lr, 0.4), 1e-3, 1e-15);
}

TEST(SearchSpaceTest, LogIntegersAreWholeAndDenserAtTheLowEnd) {
  Dimension log_width = integer(1, 1024);
  log_width.log = true;
  int below_32 = 0;
  for_each_unit(1000, [&](double u) {
    const double v = from_unit(log_width, u);
    EXPECT_EQ(v, std::round(v));
    EXPECT_GE(v, 1);
    EXPECT_LE(v, 1024);
    below_32 += v < 32 ? 1 : 0;
  });
  // About half of the log range lies below sqrt(1024) = 32 (54%: the range runs from 0.5 to
  // 1024.5, half an integer beyond either end); a linear range would put 3% there.
  EXPECT_NEAR(below_32, 543, 5);
}

TEST(SearchSpaceTest, EveryCategoricalValueIsReachable) {
  const Dimension optimizer = categorical(5);
  std::set<double> seen;
  for_each_unit(50, [&](double u) { seen.insert(from_unit(optimizer, u)); });
  EXPECT_EQ(seen, (std::set<double>{0, 1, 2, 3, 4}));
  EXPECT_EQ(from_unit(optimizer, 0.0), 0);
  EXPECT_EQ(from_unit(optimizer, 0.9999999), 4);
  EXPECT_EQ(from_unit(optimizer, 1.0), 4);  // the end of [0, 1] stays on the last value
  // A model's unit value for an index is the middle of its cell.
  EXPECT_DOUBLE_EQ(to_unit(optimizer, 2), 0.5);
  EXPECT_DOUBLE_EQ(to_unit(optimizer, 0), 0.1);
}

TEST(SearchSpaceTest, ToUnitGivesTheMiddleOfAnIntegersShare) {
  const Dimension layers = integer(1, 4);  // four shares of a quarter each
  EXPECT_DOUBLE_EQ(to_unit(layers, 1), 0.125);
  EXPECT_DOUBLE_EQ(to_unit(layers, 4), 0.875);
  EXPECT_DOUBLE_EQ(to_unit(layers, 2 - 0.5), 0.25);  // where the share of 2 starts
  EXPECT_EQ(from_unit(layers, to_unit(layers, 3)), 3);
}

TEST(SearchSpaceTest, SnapPutsAPointBackOnTheSpace) {
  SearchSpace space;
  space.dimensions = {integer(1, 64), categorical(4), real(0.1, 0.95, false, 0.2),
                      real(1e-5, 1, true)};
  const Point snapped = snap(space, {70.2, 2.6, 0.52, 3.0});
  EXPECT_EQ(snapped[0], 64);  // clamped to the high end
  EXPECT_EQ(snapped[1], 3);   // rounded to an index
  EXPECT_NEAR(snapped[2], 0.5, 1e-12);
  EXPECT_EQ(snapped[3], 1);
  const Point low = snap(space, {-3, -1, 0.0, 0.0});
  EXPECT_EQ(low, (Point{1, 0, 0.1, 1e-5}));
  EXPECT_EQ(snap(space, {12.4, 1, 0.9, 0.01})[0], 12);
  // The dropout's steps stop at 0.9, below its high end 0.95.
  EXPECT_NEAR(snap(space, {1, 0, 0.95, 0.01})[2], 0.9, 1e-12);
  EXPECT_THROW(snap(space, {1, 2}), std::invalid_argument);
}

}  // namespace
}  // namespace orch
