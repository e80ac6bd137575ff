// The datasets of the "synthetic" plugin library, one file each, and what they share.
// Every one is generated in memory from its `seed` with LibTorch's CPU generator, so the
// same seed gives the same tensors on every run of the same build.
#pragma once

#include <orch/orch.h>

namespace orch_datasets::synthetic {

void add_vectors(orch::Registry& registry);       // "synthetic": Gaussian clusters
void add_images(orch::Registry& registry);        // "synthetic_images"
void add_light_curves(orch::Registry& registry);  // "synthetic_light_curves"
void add_sequences(orch::Registry& registry);     // "synthetic_sequences"
void add_segmentation(orch::Registry& registry);  // "synthetic_segmentation"

inline at::Generator make_generator(std::int64_t seed) {
  return at::detail::createCPUGenerator(static_cast<std::uint64_t>(seed));
}

// `samples` labels in [0, classes), as balanced as the count allows, in a shuffled order.
inline torch::Tensor balanced_labels(std::int64_t samples, std::int64_t classes,
                                     at::Generator& generator) {
  auto labels = torch::arange(samples, torch::kLong).remainder(classes);
  return labels.index_select(0, torch::randperm(samples, generator, torch::kLong));
}

// Uniform values in [low, high), shaped `sizes`.
inline torch::Tensor uniform(at::IntArrayRef sizes, double low, double high,
                             at::Generator& generator) {
  return torch::rand(sizes, generator) * (high - low) + low;
}

}  // namespace orch_datasets::synthetic
