#include "host/training/autocast_guard.h"

#include <ATen/autocast_mode.h>

#include <stdexcept>
#include <string>

#include "orch/torch_compat.h"

namespace orch {

AutocastGuard::AutocastGuard(c10::DeviceType device, Precision precision) : device_(device) {
  if (precision == Precision::kFp32) return;
  if (device != c10::DeviceType::CPU && device != c10::DeviceType::CUDA) {
    throw std::invalid_argument("bf16 autocast is not available on device type " +
                                c10::DeviceTypeName(device, /*lower_case=*/true) +
                                " in this LibTorch; use train.precision = \"fp32\"");
  }
  was_enabled_ = torch_compat::autocast_enabled(device);
  previous_dtype_ = torch_compat::autocast_dtype(device);
  torch_compat::set_autocast_enabled(device, true);
  torch_compat::set_autocast_dtype(device, at::kBFloat16);
  at::autocast::increment_nesting();
  active_ = true;
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  torch_compat::set_autocast_enabled(device_, was_enabled_);
  torch_compat::set_autocast_dtype(device_, previous_dtype_);
}

}  // namespace orch
