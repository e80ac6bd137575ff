// The memory of this process as the kernel counts it: what every backend reports for the
// host side, whatever its device.
#pragma once

#include <orch/types.h>

#include <cstdint>
#include <fstream>
#include <string>

namespace orch_backends {

// Reads "VmRSS:   1234 kB" style fields of /proc/self/status, in bytes; 0 when absent.
inline std::int64_t proc_status_bytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.compare(0, field.size(), field) == 0 && line[field.size()] == ':') {
      return std::stoll(line.substr(field.size() + 1)) * 1024;
    }
  }
  return 0;
}

// Resident and peak resident memory; the device fields are left 0.
inline orch::MemoryStats host_memory() {
  orch::MemoryStats stats;
  stats.host_current_bytes = proc_status_bytes("VmRSS");
  stats.host_peak_bytes = proc_status_bytes("VmHWM");
  return stats;
}

}  // namespace orch_backends
