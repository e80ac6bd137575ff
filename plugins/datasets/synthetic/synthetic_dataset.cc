// A deterministic, learnable classification set: Gaussian clusters around one random
// centre per class. The same seed gives the same tensors on every machine.
#include <orch/orch.h>

namespace {

class SyntheticDataset : public orch::Dataset {
 public:
  explicit SyntheticDataset(const orch::Params& params)
      : features_(params.Int("features")), classes_(params.Int("classes")) {
    auto generator = at::detail::createCPUGenerator(static_cast<std::uint64_t>(params.Int("seed")));
    // Centres far enough apart (relative to `noise`) that a small model can learn them.
    auto centres = torch::randn({classes_, features_}, generator) * 2.0;
    double noise = params.Real("noise");
    make_split(params.Int("samples"), centres, noise, generator, train_inputs_, train_targets_);
    make_split(params.Int("val_samples"), centres, noise, generator, val_inputs_, val_targets_);
  }

  orch::DatasetInfo info() const override {
    orch::DatasetInfo info;
    info.input_shape = {features_};
    info.classes = classes_;
    info.train_size = train_inputs_.size(0);
    info.val_size = val_inputs_.size(0);
    return info;
  }

  orch::Batch batch(orch::Split split, const torch::Tensor& indices) override {
    bool train = split == orch::Split::kTrain;
    const auto& inputs = train ? train_inputs_ : val_inputs_;
    const auto& targets = train ? train_targets_ : val_targets_;
    return {inputs.index_select(0, indices), targets.index_select(0, indices)};
  }

 private:
  void make_split(std::int64_t samples, const torch::Tensor& centres, double noise,
                  at::Generator& generator, torch::Tensor& inputs, torch::Tensor& targets) {
    // Balanced labels in a shuffled order.
    targets = torch::arange(samples, torch::kLong).remainder(classes_);
    targets = targets.index_select(0, torch::randperm(samples, generator, torch::kLong));
    inputs = centres.index_select(0, targets) +
             torch::randn({samples, features_}, generator) * noise;
  }

  std::int64_t features_;
  std::int64_t classes_;
  torch::Tensor train_inputs_, train_targets_, val_inputs_, val_targets_;
};

}  // namespace

ORCH_PLUGIN("synthetic", "1.0.0") {
  using orch::ParamSpec;
  registry.add_dataset<SyntheticDataset>(
      "synthetic",
      {ParamSpec::Int("samples", 2048, "training samples").range(1, 100000000),
       ParamSpec::Int("val_samples", 512, "validation samples").range(1, 100000000),
       ParamSpec::Int("features", 32, "features per sample").range(1, 1000000),
       ParamSpec::Int("classes", 4, "number of classes").range(2, 100000),
       ParamSpec::Real("noise", 4.0, "standard deviation around each class centre")
           .range(0, 1000),
       ParamSpec::Int("seed", 0, "seed of the generated data").at_least(0)});
}
