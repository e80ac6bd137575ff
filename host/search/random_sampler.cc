#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "host/search/samplers.h"
#include "host/search/seeded_random.h"

namespace orch::search {
namespace {

class RandomSampler final : public Sampler {
 public:
  RandomSampler(SearchSpace space, std::uint64_t seed) : space_(std::move(space)), seed_(seed) {}

  // The history is not read: each point is independent of every other.
  Point suggest(const std::vector<Trial>& /*history*/, size_t index) override {
    SeededRandom random(seed_, index, RandomUse::kRandomPoint);
    Point point;
    point.reserve(space_.dimensions.size());
    for (const Dimension& dimension : space_.dimensions) {
      point.push_back(from_unit(dimension, random.uniform()));
    }
    return point;
  }

 private:
  SearchSpace space_;
  std::uint64_t seed_;
};

}  // namespace

std::unique_ptr<Sampler> make_random_sampler(const SearchSpace& space, std::uint64_t seed) {
  return std::make_unique<RandomSampler>(space, seed);
}

}  // namespace orch::search
