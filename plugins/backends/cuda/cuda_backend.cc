// The CUDA backend: one NVIDIA GPU, synchronized before every timestamp and measured by
// LibTorch's CUDA caching allocator. It is always built so that orch can say why it
// cannot run; the real implementation is compiled only against a CUDA build of LibTorch
// (ORCH_WITH_CUDA, set by plugins/backends/CMakeLists.txt).
#include <orch/orch.h>
#include <unistd.h>

#include <cstddef>
#include <stdexcept>
#include <string>

#include "common/host_memory.h"

#if ORCH_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/util/Exception.h>
#include <cuda_runtime_api.h>
#include <orch/torch_compat.h>
#endif

namespace {

// Asked in the host process, which forks the workers: it must not initialise CUDA (a
// forked child cannot use a CUDA context its parent created), so it looks at files only.
std::string cuda_availability() {
#if ORCH_WITH_CUDA
  if (::access("/dev/nvidiactl", F_OK) != 0) {
    return "no NVIDIA driver/device on this machine (/dev/nvidiactl does not exist)";
  }
  return "";
#else
  return "this LibTorch (" TORCH_VERSION
         ") was built without CUDA; install a CUDA build of "
         "LibTorch and rebuild orch";
#endif
}

#if ORCH_WITH_CUDA
namespace allocator = c10::cuda::CUDACachingAllocator;
// The whole-device entry of each StatArray. StatType moved namespaces during 2.x
// (c10::cuda::CUDACachingAllocator, then c10::CachingDeviceAllocator and
// c10::CachingAllocator); AGGREGATE has been its first value, index 0, in all of them.
constexpr std::size_t kAggregate = 0;

class CudaBackend : public orch::Backend {
 public:
  explicit CudaBackend(const orch::Params& params) : index_(params.Int("device")) {
    const auto count = static_cast<std::int64_t>(torch::cuda::device_count());
    if (count == 0) {
      throw std::runtime_error(
          "cuda: no CUDA device is visible to this process; check the NVIDIA driver "
          "(nvidia-smi) and CUDA_VISIBLE_DEVICES");
    }
    if (index_ < 0 || index_ >= count) {
      throw std::runtime_error("backend.device = " + std::to_string(index_) +
                               " is out of range: this machine has " + std::to_string(count) +
                               " CUDA device(s), numbered 0 to " + std::to_string(count - 1));
    }
    // The caching allocator exists only once LibTorch has initialised CUDA.
    orch::torch_compat::lazy_init_cuda();
    cudaDeviceProp properties{};
    if (cudaGetDeviceProperties(&properties, static_cast<int>(index_)) != cudaSuccess) {
      throw std::runtime_error("cuda: cannot read the properties of device " +
                               std::to_string(index_));
    }
    name_ = properties.name;
    compute_major_ = properties.major;
    c10::cuda::set_device(device_index());
    double fraction = params.Real("memory_fraction");
    if (fraction > 0) allocator::setMemoryFraction(fraction, device_index());
    allocator::resetPeakStats(device_index());
  }

  torch::Device device() const override { return {torch::kCUDA, device_index()}; }
  // Kernels are queued: a timestamp means finished work only after the device is idle.
  void synchronize() override { torch::cuda::synchronize(index_); }
  orch::MemoryStats memory() override {
    orch::MemoryStats stats = orch_backends::host_memory();
    const auto device = allocator::getDeviceStats(device_index());
    const auto& bytes = device.allocated_bytes[kAggregate];
    stats.device_current_bytes = bytes.current;
    stats.device_peak_bytes = bytes.peak;
    return stats;
  }
  void release_cache() override { allocator::emptyCache(); }
  bool is_out_of_memory(const std::exception& error) const override {
    if (dynamic_cast<const c10::OutOfMemoryError*>(&error)) return true;
    return std::string(error.what()).find("CUDA out of memory") != std::string::npos;
  }
  std::string describe() const override { return "cuda:" + std::to_string(index_) + ", " + name_; }
  // bfloat16 arithmetic needs Ampere (compute capability 8) or newer.
  bool supports(orch::Precision precision) const override {
    return precision == orch::Precision::kFp32 ||
           (precision == orch::Precision::kBf16 && compute_major_ >= 8);
  }

 private:
  // The allocator takes an int in 1.13 and a c10::DeviceIndex in 2.x; a DeviceIndex
  // converts to either.
  c10::DeviceIndex device_index() const { return static_cast<c10::DeviceIndex>(index_); }

  std::int64_t index_ = 0;
  std::string name_;
  int compute_major_ = 0;
};
#endif

}  // namespace

ORCH_PLUGIN("cuda", "1.0.0") {
  using orch::ParamSpec;
  orch::ParamSpecs params = {
      ParamSpec::Int("device", 0, "CUDA device index, as nvidia-smi numbers them").range(0, 1023),
      ParamSpec::Real("memory_fraction", 0,
                      "share of the device's memory the caching allocator may use; 0 = no cap")
          .range(0, 1),
  };
#if ORCH_WITH_CUDA
  registry.add_backend<CudaBackend>("cuda", std::move(params), cuda_availability);
#else
  // Never called by orch, which skips a backend that is not available; a direct caller
  // gets the same reason.
  registry.add_backend(
      "cuda", std::move(params),
      [](const orch::Params&) -> std::unique_ptr<orch::Backend> {
        throw std::runtime_error("cuda: " + cuda_availability());
      },
      cuda_availability);
#endif
}
