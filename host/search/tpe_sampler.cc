// The bayes strategy: a univariate tree-structured Parzen estimator (Bergstra et al. 2011),
// with the defaults of Optuna's TPESampler. After a few quasi-random points it splits the
// trials into the good few and the rest, models each dimension's values in both groups, and
// of 24 candidates drawn from the good model picks the one where good is likeliest relative
// to bad: the largest log l(x) - log g(x).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <utility>
#include <vector>

#include "host/search/parzen_estimator.h"
#include "host/search/samplers.h"
#include "host/search/seeded_random.h"

namespace orch::search {
namespace {

constexpr size_t kStartupTrials = 10;
constexpr size_t kCandidates = 24;
constexpr size_t kMostGood = 25;

bool categorical(const Dimension& dimension) {
  return dimension.kind == Dimension::Kind::kCategorical;
}

// How many distinct points the space holds, capped; nothing for a continuous one.
std::optional<size_t> distinct_points(const SearchSpace& space) {
  constexpr double kCap = 1000;  // beyond it, startup_trials no longer cares
  double count = 1;
  for (const Dimension& dimension : space.dimensions) {
    double values = static_cast<double>(dimension.choices);
    if (!categorical(dimension)) {
      const double step = grid_step(dimension);
      if (step <= 0) return std::nullopt;
      values = std::floor((dimension.high - dimension.low) / step + 1e-9) + 1;
    }
    count = std::min(kCap, count * std::clamp(values, 1.0, kCap));
  }
  return static_cast<size_t>(count);
}

// Ten quasi-random points, but in a space of few points at most half of them (and at least
// 2), so that the model gets to choose some of the rest.
size_t startup_trials(const SearchSpace& space) {
  const std::optional<size_t> points = distinct_points(space);
  if (!points) return kStartupTrials;
  return std::clamp(*points / 2, size_t{2}, kStartupTrials);
}

// Optuna's gamma: the best 10% (at most 25, at least 1) are the good trials.
size_t good_count(size_t trials) {
  const auto tenth = static_cast<size_t>(std::ceil(0.1 * static_cast<double>(trials)));
  return std::clamp(tenth, size_t{1}, kMostGood);
}

// The history split into the good trials and the rest, each kept in the order they ended
// (the observation weights favour the newest). Ranked: the finished trials by value, then
// the pruned ones, deeper first and by the value they were stopped at, then the valueless,
// then the infeasible. The best gamma(n) of the first two classes are good: with ASHA most
// trials are pruned, and the ones that got furthest say where to look.
struct Split {
  std::vector<size_t> good;  // indices into the history
  std::vector<size_t> bad;
};

Split split_history(const std::vector<Trial>& history) {
  auto rank_class = [](const Trial& t) {
    if (t.infeasible) return 3;
    if (!t.value || std::isnan(*t.value)) return 2;
    return t.pruned ? 1 : 0;
  };
  std::vector<size_t> order(history.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const Trial& ta = history[a];
    const Trial& tb = history[b];
    const int ca = rank_class(ta);
    const int cb = rank_class(tb);
    if (ca != cb) return ca < cb;
    if (ca == 1 && ta.epochs != tb.epochs) return ta.epochs > tb.epochs;
    return ca <= 1 && *ta.value < *tb.value;
  });
  std::vector<bool> good(history.size(), false);
  const size_t wanted = good_count(history.size());
  for (size_t r = 0; r < wanted && r < order.size(); ++r) {
    if (rank_class(history[order[r]]) <= 1) good[order[r]] = true;
  }
  Split split;
  for (size_t i = 0; i < history.size(); ++i) (good[i] ? split.good : split.bad).push_back(i);
  return split;
}

// One draw of one dimension from the good trials' model, with its log l - log g.
struct Option {
  double value;
  double score;
};

class TpeSampler final : public Sampler {
 public:
  TpeSampler(SearchSpace space, std::uint64_t seed)
      : space_(std::move(space)), seed_(seed), startup_count_(startup_trials(space_)) {
    // The direction-number table covers only so many dimensions; beyond, start at random.
    startup_ = space_.dimensions.size() <= kSobolDimensions ? make_sobol_sampler(space_, seed)
                                                            : make_random_sampler(space_, seed);
  }

  Point suggest(const std::vector<Trial>& history, size_t index) override {
    // Quasi-random until enough trials have finished to model, not merely been suggested:
    // runs in parallel make the history lag the index.
    if (index < startup_count_ || history.size() < startup_count_) {
      return startup_->suggest(history, index);
    }
    // On the space's grid, so that a tried point compares equal to a candidate (snap throws
    // for a point of another space).
    std::vector<Point> points;
    for (const Trial& trial : history) points.push_back(snap(space_, trial.point));
    const Split split = split_history(history);
    SeededRandom random(seed_, index, RandomUse::kParzenDraw);
    std::vector<std::vector<Option>> draws;  // per dimension, candidate c's value is draw c
    for (size_t d = 0; d < space_.dimensions.size(); ++d) {
      draws.push_back(dimension_options(d, points, split, random));
    }
    const std::set<Point> tried(points.begin(), points.end());
    // kCandidates whole points drawn from the good trials' model, the one with the best
    // l/g ratio, as Optuna's multivariate TPE chooses (over a product of the univariate
    // models here). Optuna's default univariate sampler and hyperopt take each dimension's
    // best draw on its own instead: greedier (the best of 24^D combinations), and measured
    // worse on tpe_sampler_test's function (docs/search.md, what did not help).
    std::optional<Point> best;
    double best_score = -std::numeric_limits<double>::infinity();
    for (size_t c = 0; c < kCandidates; ++c) {
      Point candidate;
      double score = 0;
      for (const auto& dimension_draws : draws) {
        const Option& draw = dimension_draws[std::min(c, dimension_draws.size() - 1)];
        candidate.push_back(draw.value);
        score += draw.score;
      }
      candidate = snap(space_, candidate);
      if (tried.count(candidate) == 0 && score > best_score) {
        best = candidate;
        best_score = score;
      }
    }
    if (best) return *best;
    // Every candidate was tried (a small space): the best untried combination of draws.
    for (auto& dimension_draws : draws) dimension_draws = best_first(dimension_draws);
    return best_untried(draws, tried);
  }

 private:
  std::vector<Option> dimension_options(size_t d, const std::vector<Point>& points,
                                        const Split& split, SeededRandom& random) const {
    const Dimension& dimension = space_.dimensions[d];
    std::vector<Option> options;
    if (categorical(dimension) && dimension.choices == 0) return {{0, 0}};  // nothing to choose
    if (categorical(dimension)) {
      auto indices = [&](const std::vector<size_t>& trials) {
        std::vector<size_t> out;
        for (size_t t : trials) out.push_back(static_cast<size_t>(points[t][d]));
        return out;
      };
      const CategoricalParzen good(indices(split.good), dimension.choices);
      const CategoricalParzen bad(indices(split.bad), dimension.choices);
      for (size_t c = 0; c < kCandidates; ++c) {
        const size_t choice = good.sample(random);
        options.push_back({static_cast<double>(choice),
                           good.log_probability(choice) - bad.log_probability(choice)});
      }
    } else {
      auto units = [&](const std::vector<size_t>& trials) {
        std::vector<double> out;
        for (size_t t : trials) out.push_back(to_unit(dimension, points[t][d]));
        return out;
      };
      const NumericParzen good(units(split.good));
      const NumericParzen bad(units(split.bad));
      const double half = grid_step(dimension) / 2;
      for (size_t c = 0; c < kCandidates; ++c) {
        const double u = good.sample(random);
        const double value = from_unit(dimension, u);
        double score = 0;
        if (half > 0) {
          // An integer or a step: the probability of its whole share, as the value it rounds to.
          const double lo = to_unit(dimension, value - half);
          const double hi = to_unit(dimension, value + half);
          score = good.log_mass(lo, hi) - bad.log_mass(lo, hi);
        } else {
          score = good.log_density(u) - bad.log_density(u);
        }
        options.push_back({value, score});
      }
    }
    return options;
  }

  // Best first; a value drawn twice is one option.
  static std::vector<Option> best_first(std::vector<Option> options) {
    std::stable_sort(options.begin(), options.end(),
                     [](const Option& a, const Option& b) { return a.score > b.score; });
    std::vector<Option> distinct;
    for (const Option& option : options) {
      const bool seen = std::any_of(distinct.begin(), distinct.end(),
                                    [&](const Option& o) { return o.value == option.value; });
      if (!seen) distinct.push_back(option);
    }
    return distinct;
  }

  // The combination of per-dimension options with the highest total score that is not a
  // point already tried; the best one when every combination was. The model is a product
  // over dimensions, so the best combination takes each dimension's best option; the next
  // ones come from a best-first walk over the options' ranks, which needs at most one step
  // per tried point.
  Point best_untried(const std::vector<std::vector<Option>>& options,
                     const std::set<Point>& tried) const {
    struct Combination {
      double score;
      std::vector<size_t> ranks;
      size_t last_raised;  // raising only this dimension or later ones reaches each once
      bool operator<(const Combination& other) const { return score < other.score; }
    };
    auto point_of = [&](const std::vector<size_t>& ranks) {
      Point point;
      for (size_t d = 0; d < ranks.size(); ++d) point.push_back(options[d][ranks[d]].value);
      return snap(space_, point);
    };
    Combination first{0, std::vector<size_t>(options.size(), 0), 0};
    for (const auto& dimension_options : options) first.score += dimension_options[0].score;
    const Point best = point_of(first.ranks);
    std::priority_queue<Combination> frontier;
    frontier.push(first);
    for (size_t steps = 0; steps <= tried.size() && !frontier.empty(); ++steps) {
      const Combination next = frontier.top();
      frontier.pop();
      Point point = point_of(next.ranks);
      if (tried.count(point) == 0) return point;
      for (size_t d = next.last_raised; d < options.size(); ++d) {
        if (next.ranks[d] + 1 >= options[d].size()) continue;
        Combination raised = next;
        raised.score += options[d][next.ranks[d] + 1].score - options[d][next.ranks[d]].score;
        ++raised.ranks[d];
        raised.last_raised = d;
        frontier.push(std::move(raised));
      }
    }
    return best;
  }

  SearchSpace space_;
  std::uint64_t seed_;
  size_t startup_count_;
  std::unique_ptr<Sampler> startup_;
};

}  // namespace

std::unique_ptr<Sampler> make_tpe_sampler(const SearchSpace& space, std::uint64_t seed) {
  return std::make_unique<TpeSampler>(space, seed);
}

}  // namespace orch::search
