// Runs the code in its scope under LibTorch's autocast with bfloat16 on one device type,
// the C++ counterpart of Python's `with torch.autocast(device, torch.bfloat16)`.
#pragma once

#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

#include "orch/types.h"

namespace orch {

class AutocastGuard {
 public:
  // Does nothing for kFp32. For kBf16, throws std::invalid_argument on a device type
  // other than cpu and cuda, the two orch autocasts (and the only ones LibTorch 1.13 has).
  AutocastGuard(c10::DeviceType device, Precision precision);
  // Restores the enabled flag and dtype found at construction; the outermost guard also
  // drops autocast's cache of casted weights, which would otherwise outlive the step.
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_ = false;
  c10::DeviceType device_ = c10::DeviceType::CPU;
  bool was_enabled_ = false;
  c10::ScalarType previous_dtype_ = c10::ScalarType::BFloat16;
};

}  // namespace orch
