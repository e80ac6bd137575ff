// The CPU backend: LibTorch's intra-op thread count, memory read from /proc, and bf16
// autocast.
#include <orch/orch.h>
#include <sched.h>

#include <string>
#include <thread>

#include "common/host_memory.h"

namespace {

// Cores this process may run on (affinity and cgroup-pinned CPU sets included).
int usable_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

class CpuBackend : public orch::Backend {
 public:
  explicit CpuBackend(const orch::Params& params) {
    auto requested = params.Int("threads");
    threads_ = requested > 0 ? static_cast<int>(requested) : usable_cores();
    // This machine's LibTorch starts with one intra-op thread: always set it explicitly.
    torch::set_num_threads(threads_);
  }

  torch::Device device() const override { return torch::kCPU; }
  void synchronize() override {}  // CPU ops finish before they return
  orch::MemoryStats memory() override { return orch_backends::host_memory(); }
  bool is_out_of_memory(const std::exception& error) const override {
    if (dynamic_cast<const std::bad_alloc*>(&error)) return true;
    std::string text = error.what();
    return text.find("DefaultCPUAllocator: can't allocate memory") != std::string::npos ||
           text.find("DefaultCPUAllocator: not enough memory") != std::string::npos;
  }
  std::string describe() const override {
    return "cpu, " + std::to_string(torch::get_num_threads()) + " intra-op threads";
  }
  // LibTorch 1.13 has CPU autocast for bfloat16; CPUs without native bf16 instructions
  // (avx512_bf16, amx) run it too, through conversions, usually slower than fp32.
  bool supports(orch::Precision precision) const override {
    return precision == orch::Precision::kFp32 || precision == orch::Precision::kBf16;
  }

 private:
  int threads_ = 1;
};

}  // namespace

ORCH_PLUGIN("cpu", "1.0.0") {
  registry.add_backend<CpuBackend>(
      "cpu",
      {orch::ParamSpec::Int("threads", 0, "intra-op threads; 0 = every core this process may use")
           .range(0, 4096)});
}
