// Random numbers for the samplers that depend only on a seed and a stream (a point's index),
// so that a point can be drawn again without replaying the ones before it. The conversions
// to uniform and normal numbers are written here because the standard library's
// distributions differ between implementations: a search resumed by another build would
// otherwise take another path.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

namespace orch::search {

// Vigna's splitmix64 finalizer: neighbouring inputs give unrelated outputs, so seed 1 and
// seed 2 (or index 7 and index 8) start engines that have nothing in common.
inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// What a stream is for, so that the random sampler and the bayes sampler of one seed do not
// draw the same numbers.
enum class RandomUse : std::uint64_t { kRandomPoint = 1, kSobolShift = 2, kParzenDraw = 3 };

class SeededRandom {
 public:
  SeededRandom(std::uint64_t seed, std::uint64_t stream, RandomUse use)
      : engine_(
            splitmix64(splitmix64(splitmix64(seed) ^ static_cast<std::uint64_t>(use)) ^ stream)) {}

  std::uint64_t bits() { return engine_(); }
  // In [0, 1), from the top 53 bits: every double it returns is exact.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Standard normal, by Box-Muller (one of the pair is dropped; draws are cheap here).
  double normal() {
    const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform()));  // 1 - u is in (0, 1]
    return radius * std::cos(6.283185307179586 * uniform());
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace orch::search
