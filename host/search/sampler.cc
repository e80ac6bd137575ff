#include "host/search/sampler.h"

#include <stdexcept>

#include "host/search/samplers.h"

namespace orch {

const char* strategy_word(SearchStrategy strategy) {
  switch (strategy) {
    case SearchStrategy::kGrid:
      return "grid";
    case SearchStrategy::kRandom:
      return "random";
    case SearchStrategy::kSobol:
      return "sobol";
    case SearchStrategy::kBayes:
      return "bayes";
  }
  return "grid";  // not reached: every strategy has its word
}

std::unique_ptr<Sampler> make_sampler(SearchStrategy strategy, const SearchSpace& space,
                                      std::uint64_t seed) {
  switch (strategy) {
    case SearchStrategy::kRandom:
      return search::make_random_sampler(space, seed);
    case SearchStrategy::kSobol:
      return search::make_sobol_sampler(space, seed);
    case SearchStrategy::kBayes:
      return search::make_tpe_sampler(space, seed);
    case SearchStrategy::kGrid:
      break;
  }
  throw std::invalid_argument(
      "strategy \"grid\" has no sampler: the sweep runs every point of its grid");
}

}  // namespace orch
