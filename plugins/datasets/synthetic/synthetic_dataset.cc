// "synthetic": a learnable classification set of vectors, Gaussian clusters around one
// random centre per class.
#include "common/in_memory_dataset.h"
#include "synthetic/synthetic.h"

namespace orch_datasets::synthetic {
namespace {

class VectorsDataset : public InMemoryDataset {
 public:
  explicit VectorsDataset(const orch::Params& params)
      : features_(params.Int("features")), classes_(params.Int("classes")) {
    auto generator = make_generator(params.Int("seed"));
    // Centres far enough apart (relative to `noise`) that a small model can learn them.
    auto centres = torch::randn({classes_, features_}, generator) * 2.0;
    double noise = params.Real("noise");
    train_ = make_split(params.Int("samples"), centres, noise, generator);
    val_ = make_split(params.Int("val_samples"), centres, noise, generator);
  }

  orch::DatasetInfo describe() const override {
    orch::DatasetInfo info;
    info.input_shape = {features_};
    info.classes = classes_;
    return info;
  }

 private:
  TensorSplit make_split(std::int64_t samples, const torch::Tensor& centres, double noise,
                         at::Generator& generator) const {
    TensorSplit split;
    split.targets = balanced_labels(samples, classes_, generator);
    split.inputs = centres.index_select(0, split.targets) +
                   torch::randn({samples, features_}, generator) * noise;
    return split;
  }

  std::int64_t features_;
  std::int64_t classes_;
};

}  // namespace

void add_vectors(orch::Registry& registry) {
  using orch::ParamSpec;
  registry.add_dataset<VectorsDataset>(
      "synthetic",
      {ParamSpec::Int("samples", 2048, "training samples").range(1, 100000000),
       ParamSpec::Int("val_samples", 512, "validation samples").range(1, 100000000),
       ParamSpec::Int("features", 32, "features per sample").range(1, 1000000),
       ParamSpec::Int("classes", 4, "number of classes").range(2, 100000),
       ParamSpec::Real("noise", 4.0, "standard deviation around each class centre").range(0, 1000),
       ParamSpec::Int("seed", 0, "seed of the generated data").at_least(0)});
}

}  // namespace orch_datasets::synthetic
