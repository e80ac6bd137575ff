#include "host/machine/matmul_speed.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <vector>

extern "C" double orch_matmul_gflops(int threads, int size, int repeats) {
  try {
    const int before = torch::get_num_threads();
    torch::set_num_threads(std::max(1, threads));
    torch::NoGradGuard no_grad;
    const auto a = torch::rand({size, size});
    const auto b = torch::rand({size, size});
    auto c = torch::mm(a, b);  // warms up caches, the thread pool and the allocator
    std::vector<double> seconds;
    for (int i = 0; i < std::max(1, repeats); ++i) {
      const auto start = std::chrono::steady_clock::now();
      c = torch::mm(a, b);
      seconds.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    torch::set_num_threads(before);
    std::sort(seconds.begin(), seconds.end());
    const double median = seconds[seconds.size() / 2];
    const double flops = 2.0 * size * size * static_cast<double>(size);
    return median > 0 ? flops / median / 1e9 : -1;
  } catch (const std::exception&) {
    return -1;
  }
}

extern "C" int orch_torch_intra_op_threads() { return torch::get_num_threads(); }
