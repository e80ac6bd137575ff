// Models that fail inside the worker, the ways real plugins do. The host must record
// each run's outcome and carry on with the sweep.
#include <orch/orch.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

enum class Failure { kSegfault, kAbort, kThrow, kHang, kImpossibleAllocation };

// A linear classifier whose forward pass each fixture below makes misbehave.
class LinearFixture : public orch::Model {
 public:
  explicit LinearFixture(const orch::DatasetInfo& data)
      : linear_(data.input_shape.at(0), data.classes) {}

  torch::nn::Module& module() override { return *linear_; }
  torch::Tensor loss(const torch::Tensor& output, const orch::Batch& batch) override {
    return torch::nn::functional::cross_entropy(output, batch.targets);
  }
  orch::Metrics evaluate(const torch::Tensor&, const orch::Batch&) override { return {}; }

 protected:
  torch::nn::Linear linear_;
};

class FaultyModel : public LinearFixture {
 public:
  FaultyModel(const orch::DatasetInfo& data, Failure failure)
      : LinearFixture(data), failure_(failure) {}

  torch::Tensor forward(const orch::Batch& batch) override {
    switch (failure_) {
      case Failure::kSegfault:
        std::raise(SIGSEGV);
        break;
      case Failure::kAbort:
        std::abort();
      case Failure::kThrow:
        throw std::runtime_error("fixture model failed on purpose");
      case Failure::kHang:
        for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
      case Failure::kImpossibleAllocation:
        // 4 PiB: LibTorch's CPU allocator fails and says so; nothing is touched.
        return torch::empty({std::int64_t{1} << 50}, torch::kFloat);
    }
    return linear_->forward(batch.inputs);
  }

 private:
  Failure failure_;
};

// Memory that grows exactly with the batch: `mib_per_sample` MiB of touched floats per
// sample, alive from forward until the next forward. A probe must find
// (budget - baseline) / mib_per_sample. With `late_after` > 0, every forward call after
// that many holds `late_mib_per_sample` more per sample: memory that grows later in a run
// than any probe trial looks (a cache that fills in the second epoch).
class MemoryHog : public LinearFixture {
 public:
  MemoryHog(const orch::Params& params, const orch::DatasetInfo& data)
      : LinearFixture(data),
        mib_per_sample_(params.Int("mib_per_sample")),
        late_after_(params.Int("late_after")),
        late_mib_per_sample_(params.Int("late_mib_per_sample")) {}

  torch::Tensor forward(const orch::Batch& batch) override {
    ballast_ = torch::Tensor();  // let the last step's memory go first
    std::int64_t mib = mib_per_sample_;
    if (late_after_ > 0 && ++calls_ > late_after_) mib += late_mib_per_sample_;
    ballast_ = torch::ones({batch.size() * mib * (1 << 20) / 4}, torch::kFloat);
    return linear_->forward(batch.inputs);
  }

 private:
  std::int64_t mib_per_sample_;
  std::int64_t late_after_;
  std::int64_t late_mib_per_sample_;
  std::int64_t calls_ = 0;
  torch::Tensor ballast_;
};

// Memory the heap keeps after it was freed. Each forward holds `mib_per_sample` MiB per
// sample in blocks of about 4 MiB (under the 32 MiB above which glibc maps blocks apart,
// so they live in the heap), each followed by a small block that outlives it by three
// forwards. Each forward's blocks are larger than the last's, in a cycle of four, so
// they do not fit the holes the last ones left between the small blocks: the heap keeps
// about three times as much freed memory resident as is alive, unless free pages go back
// to the kernel.
class HeapFragmenter : public LinearFixture {
 public:
  HeapFragmenter(const orch::Params& params, const orch::DatasetInfo& data)
      : LinearFixture(data), mib_per_sample_(params.Int("mib_per_sample")) {}

  torch::Tensor forward(const orch::Batch& batch) override {
    small_.push_back({});  // this forward's small blocks
    if (small_.size() > 4) small_.pop_front();
    large_.clear();
    const std::int64_t floats = ((4 << 20) + (++calls_ % 4) * (256 << 10)) / 4;
    const std::int64_t blocks = batch.size() * mib_per_sample_ / 4;
    for (std::int64_t i = 0; i < blocks; ++i) {
      large_.push_back(torch::ones({floats}, torch::kFloat));
      small_.back().push_back(torch::ones({4096}, torch::kFloat));
    }
    return linear_->forward(batch.inputs);
  }

 private:
  std::int64_t mib_per_sample_;
  std::int64_t calls_ = 0;
  std::vector<torch::Tensor> large_;
  std::deque<std::vector<torch::Tensor>> small_;  // the last four forwards
};

orch::ModelFactory failing(Failure failure) {
  return [failure](const orch::Params&, const orch::DatasetInfo& data) {
    return std::make_unique<FaultyModel>(data, failure);
  };
}

}  // namespace

ORCH_PLUGIN("faulty", "0.1.0") {
  registry.add_model("segfaults", {}, failing(Failure::kSegfault));
  registry.add_model("aborts", {}, failing(Failure::kAbort));
  registry.add_model("throws", {}, failing(Failure::kThrow));
  registry.add_model("hangs", {}, failing(Failure::kHang));
  registry.add_model("impossible_allocation", {}, failing(Failure::kImpossibleAllocation));
  registry.add_model<HeapFragmenter>(
      "heap_fragmenter",
      {orch::ParamSpec::Int("mib_per_sample", 4, "MiB alive per sample, in 4 MiB blocks")
           .range(0, 1 << 20)});
  registry.add_model<MemoryHog>(
      "memory_hog",
      {orch::ParamSpec::Int("mib_per_sample", 8, "MiB held per sample").range(0, 1 << 20),
       orch::ParamSpec::Int("late_after", 0, "forward calls before the late memory; 0 = never")
           .range(0, 1 << 30),
       orch::ParamSpec::Int("late_mib_per_sample", 0, "MiB more per sample after late_after")
           .range(0, 1 << 20)});
}
