// Where tensors live, how time is made honest, and how memory is read.
#pragma once

#include <torch/torch.h>

#include <exception>
#include <string>

#include "orch/types.h"

namespace orch {

// Constructed inside the worker process, before the dataset and model; a backend sets
// up its device and threads in its constructor.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual torch::Device device() const = 0;
  // Waits for queued work to finish; the trainer calls it before every timestamp.
  virtual void synchronize() = 0;
  virtual MemoryStats memory() = 0;
  virtual void release_cache() {}
  virtual bool is_out_of_memory(const std::exception&) const { return false; }
  // One line for logs and the run record, e.g. "cpu, 2 intra-op threads".
  virtual std::string describe() const = 0;
  // Whether the trainer may run the forward pass at this precision on this device.
  virtual bool supports(Precision precision) const { return precision == Precision::kFp32; }
};

}  // namespace orch
