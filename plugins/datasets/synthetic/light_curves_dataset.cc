// "synthetic_light_curves": two views of a star's brightness, like the folded light
// curves of exoplanet searches (a global view of the whole orbit and a local view zoomed
// on the candidate transit). About half the stars have a planet: a U-shaped dip centred
// in both views, narrow in the global view and wide in the local one. Some stars of either
// class also vary smoothly (spots, pulsation), which is not a transit.
#include <cmath>
#include <stdexcept>

#include "common/in_memory_dataset.h"
#include "common/number_text.h"
#include "synthetic/synthetic.h"

namespace orch_datasets::synthetic {
namespace {

constexpr const char* kLocalView = "local_view";

struct Shape {
  std::int64_t global_length, local_length;
  double noise, min_depth, max_depth, variability;
};

// Flux of `samples` stars in a view of `length` points: 1 + noise, minus a dip where
// `depth` > 0. `width` (in points) and `centre` (offset from the middle) per sample.
torch::Tensor view(std::int64_t samples, std::int64_t length, const torch::Tensor& depth,
                   const torch::Tensor& width, const torch::Tensor& centre, double noise,
                   at::Generator& generator) {
  auto x = torch::arange(length, torch::kFloat).unsqueeze(0) - (length - 1) / 2.0;
  auto u = (x - centre.unsqueeze(1)) / (width.unsqueeze(1) / 2);
  // 1 - u^4 inside the transit: steep ingress and egress, a flat-ish bottom.
  auto dip = (1 - u.pow(4)).clamp_min(0) * depth.unsqueeze(1);
  return 1 + torch::randn({samples, length}, generator) * noise - dip;
}

// A slow sinusoid of amplitude comparable to the dips, on a fraction of the stars.
torch::Tensor variability(std::int64_t samples, std::int64_t length, const Shape& shape,
                          const torch::Tensor& varies, double cycles_low, double cycles_high,
                          at::Generator& generator) {
  auto amplitude = uniform({samples, 1}, 0.5, 1.5, generator) * shape.noise * shape.max_depth *
                   varies.unsqueeze(1);
  auto cycles = uniform({samples, 1}, cycles_low, cycles_high, generator);
  auto phase = uniform({samples, 1}, 0, 2 * M_PI, generator);
  auto t = torch::arange(length, torch::kFloat).unsqueeze(0) / length;
  return amplitude * torch::sin(2 * M_PI * cycles * t + phase);
}

TensorSplit make_split(std::int64_t samples, const Shape& shape, at::Generator& generator) {
  TensorSplit split;
  auto labels = balanced_labels(samples, 2, generator);
  auto planet = labels.to(torch::kFloat);
  auto depth =
      uniform({samples}, shape.min_depth, shape.max_depth, generator) * shape.noise * planet;
  // A transit covers 1-3% of the orbit (2-6 points of 201) and a third to half of the
  // local view; its centre is known to about a point.
  auto global_width =
      uniform({samples}, 0.01, 0.03, generator) * static_cast<double>(shape.global_length);
  auto local_width =
      uniform({samples}, 0.3, 0.5, generator) * static_cast<double>(shape.local_length);
  auto jitter = uniform({samples}, -1, 1, generator);
  auto varies = (torch::rand({samples}, generator) < shape.variability).to(torch::kFloat);

  auto global = view(samples, shape.global_length, depth, global_width.clamp_min(1.5), jitter * 0.2,
                     shape.noise, generator) +
                variability(samples, shape.global_length, shape, varies, 1, 4, generator);
  auto local =
      view(samples, shape.local_length, depth, local_width, jitter, shape.noise, generator) +
      variability(samples, shape.local_length, shape, varies, 0.1, 0.4, generator);
  split.inputs = global.unsqueeze(1).contiguous();
  split.extra_inputs[kLocalView] = local.unsqueeze(1).contiguous();
  split.targets = planet;
  return split;
}

class LightCurvesDataset : public InMemoryDataset {
 public:
  explicit LightCurvesDataset(const orch::Params& params)
      : shape_{params.Int("global_length"), params.Int("local_length"),
               params.Real("noise"),        params.Real("min_depth"),
               params.Real("max_depth"),    params.Real("variability")} {
    if (shape_.min_depth > shape_.max_depth) {
      throw std::invalid_argument("synthetic_light_curves: min_depth (" +
                                  number_text(shape_.min_depth) + ") is larger than max_depth (" +
                                  number_text(shape_.max_depth) +
                                  "); set dataset.min_depth <= dataset.max_depth");
    }
    auto generator = make_generator(params.Int("seed"));
    train_ = make_split(params.Int("samples"), shape_, generator);
    val_ = make_split(params.Int("val_samples"), shape_, generator);
  }

  orch::DatasetInfo describe() const override {
    orch::DatasetInfo info;
    info.input_shape = {1, shape_.global_length};
    info.extra_input_shapes = {{kLocalView, {1, shape_.local_length}}};
    info.classes = 2;
    info.task = orch::Task::kBinary;
    return info;
  }

 private:
  Shape shape_;
};

}  // namespace

void add_light_curves(orch::Registry& registry) {
  using orch::ParamSpec;
  registry.add_dataset<LightCurvesDataset>(
      "synthetic_light_curves",
      {ParamSpec::Int("samples", 8192, "training stars").range(2, 10000000),
       ParamSpec::Int("val_samples", 2048, "validation stars").range(2, 10000000),
       ParamSpec::Int("global_length", 201, "points of the global view (the whole orbit)")
           .range(16, 100000),
       ParamSpec::Int("local_length", 61, "points of the local view (around the transit)")
           .range(8, 100000),
       ParamSpec::Real("noise", 0.1, "standard deviation of the flux noise (flux is 1)")
           .range(0, 10),
       ParamSpec::Real("min_depth", 0.3, "shallowest transit, in units of `noise`").range(0, 1000),
       ParamSpec::Real("max_depth", 2.0, "deepest transit, in units of `noise`").range(0, 1000),
       ParamSpec::Real("variability", 0.3,
                       "fraction of stars (of both classes) with slow non-transit variability")
           .range(0, 1),
       ParamSpec::Int("seed", 0, "seed of the generated data").at_least(0)});
}

}  // namespace orch_datasets::synthetic
