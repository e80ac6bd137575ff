#include "host/training/autocast_guard.h"

#include <ATen/autocast_mode.h>

#include <stdexcept>
#include <string>

namespace orch {

AutocastGuard::AutocastGuard(c10::DeviceType device, Precision precision) : device_(device) {
  if (precision == Precision::kFp32) return;
  if (device == c10::DeviceType::CPU) {
    was_enabled_ = at::autocast::is_cpu_enabled();
    previous_dtype_ = at::autocast::get_autocast_cpu_dtype();
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  } else if (device == c10::DeviceType::CUDA) {
    was_enabled_ = at::autocast::is_enabled();
    previous_dtype_ = at::autocast::get_autocast_gpu_dtype();
    at::autocast::set_enabled(true);
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
  } else {
    throw std::invalid_argument("bf16 autocast is not available on device type " +
                                c10::DeviceTypeName(device, /*lower_case=*/true) +
                                " in this LibTorch; use train.precision = \"fp32\"");
  }
  at::autocast::increment_nesting();
  active_ = true;
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  if (device_ == c10::DeviceType::CPU) {
    at::autocast::set_cpu_enabled(was_enabled_);
    at::autocast::set_autocast_cpu_dtype(previous_dtype_);
  } else {
    at::autocast::set_enabled(was_enabled_);
    at::autocast::set_autocast_gpu_dtype(previous_dtype_);
  }
}

}  // namespace orch
