// One split of a dataset held in memory as whole tensors, cut into batches by index.
#pragma once

#include <orch/dataset.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

namespace orch_datasets {

struct TensorSplit {
  torch::Tensor inputs;                               // [samples, ...]
  torch::Tensor targets;                              // [samples, ...]
  std::map<std::string, torch::Tensor> extra_inputs;  // [samples, ...] each

  std::int64_t size() const { return inputs.defined() ? inputs.size(0) : 0; }

  orch::Batch select(const torch::Tensor& indices) const {
    orch::Batch batch{inputs.index_select(0, indices), targets.index_select(0, indices), {}};
    for (const auto& [name, tensor] : extra_inputs) {
      batch.extra_inputs[name] = tensor.index_select(0, indices);
    }
    return batch;
  }
};

// The rows of a seeded hold-out: round(samples x fraction) for validation (at least one
// when fraction > 0), the rest for training, in an order the seed fixes. `train` is empty
// when none would be left for training, for the caller to refuse in its own words.
struct HeldOutRows {
  torch::Tensor train;
  torch::Tensor val;
};

inline HeldOutRows held_out_rows(std::int64_t samples, double fraction, std::int64_t seed) {
  std::int64_t held = static_cast<std::int64_t>(std::llround(samples * fraction));
  if (fraction > 0) held = std::max<std::int64_t>(held, 1);
  held = std::min(held, samples);
  auto generator = at::detail::createCPUGenerator(static_cast<std::uint64_t>(seed));
  auto order = torch::randperm(samples, generator, torch::kLong);
  return {order.narrow(0, 0, samples - held), order.narrow(0, samples - held, held)};
}

}  // namespace orch_datasets
