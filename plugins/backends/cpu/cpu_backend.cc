// The CPU backend: LibTorch's intra-op thread count, and memory read from /proc.
#include <orch/orch.h>
#include <sched.h>

#include <fstream>
#include <string>
#include <thread>

namespace {

// Cores this process may run on (affinity and cgroup-pinned CPU sets included).
int usable_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

// Reads "VmRSS:   1234 kB" style fields of /proc/self/status, in bytes.
std::int64_t proc_status_bytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.compare(0, field.size(), field) == 0 && line[field.size()] == ':') {
      return std::stoll(line.substr(field.size() + 1)) * 1024;
    }
  }
  return 0;
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
  orch::MemoryStats memory() override {
    orch::MemoryStats stats;
    stats.host_current_bytes = proc_status_bytes("VmRSS");
    stats.host_peak_bytes = proc_status_bytes("VmHWM");
    return stats;
  }
  bool is_out_of_memory(const std::exception& error) const override {
    if (dynamic_cast<const std::bad_alloc*>(&error)) return true;
    std::string text = error.what();
    return text.find("DefaultCPUAllocator: can't allocate memory") != std::string::npos ||
           text.find("DefaultCPUAllocator: not enough memory") != std::string::npos;
  }
  std::string describe() const override {
    return "cpu, " + std::to_string(torch::get_num_threads()) + " intra-op threads";
  }

 private:
  int threads_ = 1;
};

}  // namespace

ORCH_PLUGIN("cpu", "1.0.0") {
  registry.add_backend<CpuBackend>(
      "cpu", {orch::ParamSpec::Int("threads", 0,
                                   "intra-op threads; 0 = every core this process may use")
                  .range(0, 4096)});
}
