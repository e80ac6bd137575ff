// A measurement, not a check: parameter counts and forward+backward time per sample of
// every model plugin at its default sizes, on 2 threads. Wall time is what a run would
// see; CPU time (both threads together) is steadier on a machine shared with other work.
//   build/bin/model_step_bench
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "tests/models/model_harness.h"

namespace orch::testing {
namespace {

struct Workload {
  std::string model;
  DatasetInfo data;
  std::string input;  // as printed
};

TEST(ModelTiming, DefaultSizesOnTwoThreads) {
  const std::int64_t batch_size = 8;
  const int warmup = 2, measured = 7;
  torch::set_num_threads(2);
  torch::manual_seed(0);
  // The synthetic datasets' default shapes, plus Shallue & Vanderburg's 2001/201 views and
  // a larger segmentation image.
  std::vector<Workload> workloads{
      {"mlp", vector_info(32, 4), "[32], 4 classes"},
      {"mnist_cnn", image_info(1, 28, 28, 10), "[1, 28, 28], 10 classes"},
      {"keras_cnn", image_info(1, 28, 28, 10), "[1, 28, 28], 10 classes"},
      {"transit_cnn1d", light_curve_info(201, 61), "[1, 201] + local [1, 61]"},
      {"transit_cnn1d", light_curve_info(2001, 201), "[1, 2001] + local [1, 201]"},
      {"multitask_transformer", sequence_info(192, 768, {4, 4, 4}), "[192, 768], 3 tasks x 4"},
      {"unet", segmentation_info(3, 64, 64), "[3, 64, 64]"},
      {"unet", segmentation_info(3, 128, 128), "[3, 128, 128]"},
  };

  std::printf("%-22s %-28s %11s %14s %10s %14s\n", "model", "input", "parameters", "wall ms/step",
              "ms/sample", "CPU ms/sample");
  for (const auto& work : workloads) {
    auto model = make_model(work.model, work.data);
    Batch batch = random_batch(work.data, batch_size);
    std::vector<double> seconds, cpu_seconds;
    for (int step = 0; step < warmup + measured; ++step) {
      auto start = std::chrono::steady_clock::now();
      std::clock_t cpu_start = std::clock();
      model->module().zero_grad();
      torch::Tensor loss = model->loss(model->forward(batch), batch);
      loss.backward();
      ASSERT_TRUE(std::isfinite(loss.item<double>())) << work.model;
      double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
      if (step >= warmup) {
        seconds.push_back(elapsed);
        cpu_seconds.push_back(cpu);
      }
    }
    auto median_ms = [](std::vector<double> values) {
      std::sort(values.begin(), values.end());
      return values[values.size() / 2] * 1e3;
    };
    double wall_ms = median_ms(seconds);
    std::printf("%-22s %-28s %11lld %14.1f %10.2f %14.2f\n", work.model.c_str(), work.input.c_str(),
                static_cast<long long>(parameter_count(*model)), wall_ms, wall_ms / batch_size,
                median_ms(cpu_seconds) / batch_size);
  }
}

}  // namespace
}  // namespace orch::testing
