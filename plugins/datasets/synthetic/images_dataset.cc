// "synthetic_images": one smooth random template image per class; a sample is its
// class's template, shifted by a few pixels, plus pixel noise. The shifts make a model
// that looks at neighbourhoods (a CNN) do better than one that compares pixels.
#include "common/in_memory_dataset.h"
#include "synthetic/synthetic.h"

namespace orch_datasets::synthetic {
namespace {

class ImagesDataset : public InMemoryDataset {
 public:
  explicit ImagesDataset(const orch::Params& params)
      : channels_(params.Int("channels")),
        height_(params.Int("height")),
        width_(params.Int("width")),
        classes_(params.Int("classes")),
        shift_(params.Int("shift")),
        noise_(params.Real("noise")) {
    auto generator = make_generator(params.Int("seed"));
    templates_ = make_templates(generator);
    train_ = make_split(params.Int("samples"), generator);
    val_ = make_split(params.Int("val_samples"), generator);
  }

  orch::DatasetInfo describe() const override {
    orch::DatasetInfo info;
    info.input_shape = {channels_, height_, width_};
    info.classes = classes_;
    return info;
  }

 private:
  // [classes, channels, height + 2 shift, width + 2 shift]: random values on a coarse
  // grid (a quarter of the resolution) smoothed up by bilinear interpolation, then scaled
  // to zero mean and unit variance per class so `noise` is a signal-to-noise ratio.
  torch::Tensor make_templates(at::Generator& generator) const {
    std::int64_t full_h = height_ + 2 * shift_, full_w = width_ + 2 * shift_;
    auto coarse = torch::randn({classes_, channels_, std::max<std::int64_t>(2, full_h / 4),
                                std::max<std::int64_t>(2, full_w / 4)},
                               generator);
    namespace F = torch::nn::functional;
    auto smooth = F::interpolate(coarse, F::InterpolateFuncOptions()
                                             .size(std::vector<std::int64_t>{full_h, full_w})
                                             .mode(torch::kBilinear)
                                             .align_corners(false));
    auto flat = smooth.view({classes_, -1});
    flat = (flat - flat.mean(1, true)) / flat.std(1, true, true).clamp_min(1e-6);
    return flat.view_as(smooth).contiguous();
  }

  TensorSplit make_split(std::int64_t samples, at::Generator& generator) const {
    TensorSplit split;
    split.targets = balanced_labels(samples, classes_, generator);
    auto shifts = torch::randint(0, 2 * shift_ + 1, {samples, 2}, generator, torch::kLong);
    split.inputs = torch::randn({samples, channels_, height_, width_}, generator) * noise_;
    // One crop of the padded templates per distinct shift, added to the samples that have it.
    auto code = shifts.select(1, 0) * (2 * shift_ + 1) + shifts.select(1, 1);
    for (std::int64_t dy = 0; dy <= 2 * shift_; ++dy) {
      for (std::int64_t dx = 0; dx <= 2 * shift_; ++dx) {
        auto rows = (code == dy * (2 * shift_ + 1) + dx).nonzero().view(-1);
        if (rows.numel() == 0) continue;
        auto crop = templates_.index_select(0, split.targets.index_select(0, rows))
                        .narrow(2, dy, height_)
                        .narrow(3, dx, width_);
        split.inputs.index_add_(0, rows, crop);
      }
    }
    return split;
  }

  std::int64_t channels_, height_, width_, classes_, shift_;
  double noise_;
  torch::Tensor templates_;
};

}  // namespace

void add_images(orch::Registry& registry) {
  using orch::ParamSpec;
  registry.add_dataset<ImagesDataset>(
      "synthetic_images",
      {ParamSpec::Int("samples", 8192, "training images").range(1, 10000000),
       ParamSpec::Int("val_samples", 2048, "validation images").range(1, 10000000),
       ParamSpec::Int("channels", 1, "channels per image").range(1, 64),
       ParamSpec::Int("height", 28, "image height in pixels").range(4, 4096),
       ParamSpec::Int("width", 28, "image width in pixels").range(4, 4096),
       ParamSpec::Int("classes", 10, "number of classes (one template image each)").range(2, 10000),
       ParamSpec::Real("noise", 3.0,
                       "standard deviation of the pixel noise; templates have "
                       "standard deviation 1")
           .range(0, 1000),
       ParamSpec::Int("shift", 4, "largest random shift of a template, in pixels").range(0, 64),
       ParamSpec::Int("seed", 0, "seed of the generated data").at_least(0)});
}

}  // namespace orch_datasets::synthetic
