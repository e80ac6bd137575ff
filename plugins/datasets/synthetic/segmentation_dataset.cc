// "synthetic_segmentation": images of a few rectangles and discs (watermark-like objects,
// plainly brighter or striped) on noisy, unevenly lit backgrounds; the target is the
// objects' mask. Stripes and uneven light make a per-pixel threshold miss, so a model
// that sees neighbourhoods does better.
#include <algorithm>
#include <cmath>

#include "common/in_memory_dataset.h"
#include "common/number_text.h"
#include "synthetic/synthetic.h"

namespace orch_datasets::synthetic {
namespace {

// Drawn this many images at a time, so that construction needs little more memory than
// the result.
constexpr std::int64_t kChunk = 256;

struct Options {
  std::int64_t channels, height, width, objects;
  double min_size, max_size, contrast, noise;
};

class SegmentationDataset : public InMemoryDataset {
 public:
  explicit SegmentationDataset(const orch::Params& params)
      : options_{params.Int("channels"),  params.Int("height"),    params.Int("width"),
                 params.Int("objects"),   params.Real("min_size"), params.Real("max_size"),
                 params.Real("contrast"), params.Real("noise")} {
    if (options_.min_size > options_.max_size) {
      throw std::invalid_argument("synthetic_segmentation: min_size (" +
                                  number_text(options_.min_size) + ") is larger than max_size (" +
                                  number_text(options_.max_size) +
                                  "); set dataset.min_size <= dataset.max_size");
    }
    auto generator = make_generator(params.Int("seed"));
    train_ = make_split(params.Int("samples"), generator);
    val_ = make_split(params.Int("val_samples"), generator);
  }

  orch::DatasetInfo describe() const override {
    orch::DatasetInfo info;
    info.input_shape = {options_.channels, options_.height, options_.width};
    info.classes = 2;
    info.task = orch::Task::kSegmentation;
    return info;
  }

  orch::Batch batch(orch::Split split, const torch::Tensor& indices) override {
    orch::Batch batch = InMemoryDataset::batch(split, indices);
    batch.targets = batch.targets.to(torch::kFloat);  // stored as bytes: a quarter of the memory
    return batch;
  }

 private:
  TensorSplit make_split(std::int64_t samples, at::Generator& generator) const {
    const auto& o = options_;
    TensorSplit split;
    split.inputs = torch::empty({samples, o.channels, o.height, o.width});
    split.targets = torch::zeros({samples, 1, o.height, o.width}, torch::kByte);
    for (std::int64_t start = 0; start < samples; start += kChunk) {
      std::int64_t n = std::min(kChunk, samples - start);
      draw(split.inputs.narrow(0, start, n), split.targets.narrow(0, start, n), generator);
    }
    return split;
  }

  // Fills `images` [n, channels, height, width] and the zeros of `masks` [n, 1, height,
  // width] in place.
  void draw(torch::Tensor images, torch::Tensor masks, at::Generator& generator) const {
    const auto& o = options_;
    std::int64_t n = images.size(0);
    namespace F = torch::nn::functional;
    images.normal_(0, o.noise, generator);
    // Uneven lighting: smooth random variation at an eighth of the resolution.
    auto light = torch::randn({n, o.channels, std::max<std::int64_t>(2, o.height / 8),
                               std::max<std::int64_t>(2, o.width / 8)},
                              generator) *
                 0.5;
    images += F::interpolate(light, F::InterpolateFuncOptions()
                                        .size(std::vector<std::int64_t>{o.height, o.width})
                                        .mode(torch::kBilinear)
                                        .align_corners(false));

    // Every parameter of every object slot is drawn first, as tensors [n, objects, ...];
    // the drawing below then only visits each object's bounding box.
    std::int64_t k = o.objects;
    auto present = torch::rand({n, k}, generator) < 0.5;
    present.select(1, 0).fill_(true);  // every image has at least one object
    auto disc = torch::rand({n, k}, generator) < 0.5;
    auto cy = uniform({n, k}, 0, o.height, generator);
    auto cx = uniform({n, k}, 0, o.width, generator);
    auto size = uniform({n, k}, o.min_size, o.max_size, generator);
    auto half_h = size * uniform({n, k}, 0.3, 0.7, generator);
    auto half_w = size * uniform({n, k}, 0.3, 0.7, generator);
    auto colour = uniform({n, k, o.channels}, 0.5, 1.5, generator) * o.contrast;
    // Half the objects are striped: 0..1 of their colour along a random direction.
    auto striped = torch::rand({n, k}, generator) < 0.5;
    auto angle = uniform({n, k}, 0, M_PI, generator);
    auto period = uniform({n, k}, 3, 8, generator);

    auto image = images.accessor<float, 4>();
    auto mask = masks.accessor<std::uint8_t, 4>();
    auto present_ = present.accessor<bool, 2>();
    auto disc_ = disc.accessor<bool, 2>();
    auto striped_ = striped.accessor<bool, 2>();
    auto cy_ = cy.accessor<float, 2>(), cx_ = cx.accessor<float, 2>();
    auto size_ = size.accessor<float, 2>();
    auto half_h_ = half_h.accessor<float, 2>(), half_w_ = half_w.accessor<float, 2>();
    auto angle_ = angle.accessor<float, 2>(), period_ = period.accessor<float, 2>();
    auto colour_ = colour.accessor<float, 3>();
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t j = 0; j < k; ++j) {
        if (!present_[i][j]) continue;
        bool round = disc_[i][j];
        float y0 = cy_[i][j], x0 = cx_[i][j], radius = size_[i][j] / 2;
        float reach_y = round ? radius : half_h_[i][j], reach_x = round ? radius : half_w_[i][j];
        float dir_x = std::cos(angle_[i][j]), dir_y = std::sin(angle_[i][j]);
        float wave = 2 * static_cast<float>(M_PI) / period_[i][j];
        auto first = [](float low) { return std::max<std::int64_t>(0, std::ceil(low)); };
        auto last = [](float high, std::int64_t end) {
          return std::min<std::int64_t>(end - 1, std::floor(high));
        };
        for (std::int64_t y = first(y0 - reach_y); y <= last(y0 + reach_y, o.height); ++y) {
          for (std::int64_t x = first(x0 - reach_x); x <= last(x0 + reach_x, o.width); ++x) {
            float dy = y - y0, dx = x - x0;
            if (round && dx * dx + dy * dy > radius * radius) continue;
            float texture =
                striped_[i][j] ? 0.5f + 0.5f * std::sin(wave * (x * dir_x + y * dir_y)) : 1.0f;
            for (std::int64_t c = 0; c < o.channels; ++c) {
              image[i][c][y][x] += colour_[i][j][c] * texture;
            }
            mask[i][0][y][x] = 1;
          }
        }
      }
    }
  }

  Options options_;
};

}  // namespace

void add_segmentation(orch::Registry& registry) {
  using orch::ParamSpec;
  registry.add_dataset<SegmentationDataset>(
      "synthetic_segmentation",
      {ParamSpec::Int("samples", 2048, "training images").range(1, 10000000),
       ParamSpec::Int("val_samples", 512, "validation images").range(1, 10000000),
       ParamSpec::Int("channels", 3, "channels per image").range(1, 64),
       ParamSpec::Int("height", 64, "image height in pixels").range(8, 4096),
       ParamSpec::Int("width", 64, "image width in pixels").range(8, 4096),
       ParamSpec::Int("objects", 3, "most objects per image (at least one)").range(1, 64),
       ParamSpec::Real("min_size", 6, "smallest object, in pixels across").range(1, 4096),
       ParamSpec::Real("max_size", 20, "largest object, in pixels across").range(1, 4096),
       ParamSpec::Real("contrast", 1.0, "mean brightness an object adds").range(0, 1000),
       ParamSpec::Real("noise", 0.3, "standard deviation of the pixel noise").range(0, 1000),
       ParamSpec::Int("seed", 0, "seed of the generated data").at_least(0)});
}

}  // namespace orch_datasets::synthetic
