// Sobol's sequence (Bratley and Fox 1988, with Joe and Kuo's 2008 direction numbers), with a
// random digital shift per seed. The first 2^m points put exactly one point in each of the
// 2^m equal slices of every axis, and spread far more evenly over pairs of axes than
// independent points do; XOR-ing every coordinate with the same random bits keeps that.
#include <array>
#include <cstdint>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "host/search/samplers.h"
#include "host/search/seeded_random.h"

namespace orch::search {
namespace {

// One row of Joe and Kuo's new-joe-kuo-6.21201: the degree s of the dimension's primitive
// polynomial, its inner coefficients a (as bits, highest first), and the initial direction
// numbers m_1 .. m_s.
struct DirectionSeed {
  unsigned degree;
  unsigned coefficients;
  std::array<std::uint32_t, 7> initial;
};

// Dimensions 2 to 21; the first dimension is van der Corput's sequence and needs no row.
constexpr DirectionSeed kJoeKuo[] = {
    {1, 0, {1}},
    {2, 1, {1, 3}},
    {3, 1, {1, 3, 1}},
    {3, 2, {1, 1, 1}},
    {4, 1, {1, 1, 3, 3}},
    {4, 4, {1, 3, 5, 13}},
    {5, 2, {1, 1, 5, 5, 17}},
    {5, 4, {1, 1, 5, 5, 5}},
    {5, 7, {1, 1, 7, 11, 19}},
    {5, 11, {1, 1, 5, 1, 1}},
    {5, 13, {1, 1, 1, 3, 11}},
    {5, 14, {1, 3, 5, 5, 31}},
    {6, 1, {1, 3, 3, 9, 7, 49}},
    {6, 13, {1, 1, 1, 15, 21, 21}},
    {6, 16, {1, 3, 1, 13, 27, 49}},
    {6, 19, {1, 1, 1, 15, 7, 5}},
    {6, 22, {1, 3, 1, 15, 13, 25}},
    {6, 25, {1, 1, 5, 5, 19, 61}},
    {7, 1, {1, 3, 7, 11, 23, 15, 103}},
    {7, 4, {1, 3, 7, 13, 13, 15, 69}},
};
static_assert(std::size(kJoeKuo) + 1 == kSobolDimensions);

// Coordinates are 32-bit fractions: 2^32 points before the sequence repeats.
constexpr unsigned kBits = 32;
using Directions = std::array<std::uint32_t, kBits>;

// v_j = m_j / 2^j as a 32-bit fraction, m_j for j > s from the polynomial's recurrence
// m_j = 2 a_1 m_{j-1} ^ 4 a_2 m_{j-2} ^ ... ^ 2^s m_{j-s} ^ m_{j-s}.
Directions directions_of(size_t dimension) {
  Directions v{};
  if (dimension == 0) {
    for (unsigned j = 0; j < kBits; ++j) v[j] = std::uint32_t{1} << (kBits - 1 - j);
    return v;
  }
  const DirectionSeed& seed = kJoeKuo[dimension - 1];
  const unsigned s = seed.degree;
  for (unsigned j = 0; j < s; ++j) v[j] = seed.initial[j] << (kBits - 1 - j);
  for (unsigned j = s; j < kBits; ++j) {
    v[j] = v[j - s] ^ (v[j - s] >> s);
    for (unsigned k = 1; k < s; ++k) {
      if ((seed.coefficients >> (s - 1 - k)) & 1U) v[j] ^= v[j - k];
    }
  }
  return v;
}

class SobolSampler final : public Sampler {
 public:
  SobolSampler(SearchSpace space, std::uint64_t seed) : space_(std::move(space)) {
    SeededRandom random(seed, 0, RandomUse::kSobolShift);
    for (size_t d = 0; d < space_.dimensions.size(); ++d) {
      directions_.push_back(directions_of(d));
      shifts_.push_back(static_cast<std::uint32_t>(random.bits() >> 32));
    }
  }

  // Point `index` directly, in Gray-code order (the order of Antonov and Saleev's recurrence
  // and of Joe and Kuo's and SciPy's generators): the XOR of the directions of the bits set
  // in index ^ (index >> 1).
  Point suggest(const std::vector<Trial>& /*history*/, size_t index) override {
    const std::uint64_t gray = static_cast<std::uint64_t>(index) ^ (index >> 1);
    Point point;
    point.reserve(space_.dimensions.size());
    for (size_t d = 0; d < space_.dimensions.size(); ++d) {
      std::uint32_t x = shifts_[d];
      for (unsigned j = 0; j < kBits; ++j) {
        if ((gray >> j) & 1U) x ^= directions_[d][j];
      }
      point.push_back(from_unit(space_.dimensions[d], static_cast<double>(x) * 0x1.0p-32));
    }
    return point;
  }

 private:
  SearchSpace space_;
  std::vector<Directions> directions_;
  std::vector<std::uint32_t> shifts_;
};

}  // namespace

std::unique_ptr<Sampler> make_sobol_sampler(const SearchSpace& space, std::uint64_t seed) {
  if (space.dimensions.size() > kSobolDimensions) {
    throw std::invalid_argument(
        "strategy \"sobol\" samples at most " + std::to_string(kSobolDimensions) +
        " dimensions and this search has " + std::to_string(space.dimensions.size()) +
        ": use strategy \"random\" or \"bayes\", or sweep fewer keys");
  }
  return std::make_unique<SobolSampler>(space, seed);
}

}  // namespace orch::search
