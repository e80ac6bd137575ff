// The MPS backend: Apple's Metal GPUs. It is always built so that orch can say why it
// cannot run; the real implementation is compiled only on macOS, where LibTorch has MPS.
#include <orch/orch.h>

#include <stdexcept>
#include <string>

#include "common/host_memory.h"

namespace {

// Asked in the host process, which forks the workers, so on macOS it does not touch
// Metal: the worker's constructor checks that this LibTorch can use the GPU.
std::string mps_availability() {
#if defined(__APPLE__)
  return "";
#else
  return "MPS is Apple's Metal backend; it exists only on macOS builds of LibTorch";
#endif
}

#if defined(__APPLE__)
class MpsBackend : public orch::Backend {
 public:
  explicit MpsBackend(const orch::Params&) {
    if (!at::hasMPS()) {
      throw std::runtime_error(
          "mps: this LibTorch cannot use the GPU: it was built without MPS, or this Mac "
          "runs macOS older than 12.3 or has no Metal GPU");
    }
    marker_ = torch::zeros({1}, torch::kMPS);
  }

  torch::Device device() const override { return torch::kMPS; }
  // LibTorch 1.13 has no C++ call to wait for MPS; a blocking copy to the host waits for
  // everything queued on its one stream.
  void synchronize() override { (void)marker_.to(torch::kCPU); }
  // Unified memory: the process's own resident memory is the measure.
  orch::MemoryStats memory() override { return orch_backends::host_memory(); }
  bool is_out_of_memory(const std::exception& error) const override {
    return std::string(error.what()).find("MPS backend out of memory") != std::string::npos;
  }
  std::string describe() const override { return "mps, Apple Metal"; }
  // LibTorch 1.13 has no autocast for MPS: fp32 only.

 private:
  torch::Tensor marker_;
};
#endif

}  // namespace

ORCH_PLUGIN("mps", "1.0.0") {
#if defined(__APPLE__)
  registry.add_backend<MpsBackend>("mps", {}, mps_availability);
#else
  registry.add_backend(
      "mps", {},
      [](const orch::Params&) -> std::unique_ptr<orch::Backend> {
        throw std::runtime_error("mps: " + mps_availability());
      },
      mps_availability);
#endif
}
