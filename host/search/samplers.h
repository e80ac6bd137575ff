// The samplers behind make_sampler, one per strategy. The bayes sampler starts from the
// sobol one (or the random one, for a space too wide for it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "host/search/sampler.h"
#include "host/search/search_space.h"

namespace orch::search {

// How many dimensions the Sobol sampler's table of direction numbers covers.
constexpr size_t kSobolDimensions = 21;

std::unique_ptr<Sampler> make_random_sampler(const SearchSpace& space, std::uint64_t seed);
// Throws std::invalid_argument for a space of more than kSobolDimensions dimensions.
std::unique_ptr<Sampler> make_sobol_sampler(const SearchSpace& space, std::uint64_t seed);
std::unique_ptr<Sampler> make_tpe_sampler(const SearchSpace& space, std::uint64_t seed);

}  // namespace orch::search
