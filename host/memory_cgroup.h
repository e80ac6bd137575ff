// A kernel-enforced memory limit for one worker: a memory cgroup of its own (cgroup v2
// memory.max, or the v1 memory controller's limit_in_bytes) under the cgroup orch runs
// in. Where cgroups are not available or not writable, create() returns nothing and the
// watchdog alone enforces the budget.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace orch {

class MemoryCgroup {
 public:
  // Creates a cgroup named `name` (e.g. "orch-1234-run-7") under this process's memory
  // cgroup with the limit set (swap disabled where the kernel allows). Returns nothing,
  // and sets `why_not` to one sentence, when it cannot.
  static std::unique_ptr<MemoryCgroup> create(const std::string& name, std::int64_t limit_bytes,
                                              std::string* why_not = nullptr);
  ~MemoryCgroup();  // removes the cgroup (after its processes have exited)
  MemoryCgroup(const MemoryCgroup&) = delete;
  MemoryCgroup& operator=(const MemoryCgroup&) = delete;

  // Moves a process into the cgroup. Returns false when the kernel refuses.
  bool add(int pid);
  // How many times the kernel's OOM killer acted in this cgroup.
  std::int64_t oom_kills() const;
  // The most memory charged to the cgroup so far (v1 max_usage_in_bytes, v2 memory.peak
  // where the kernel has it); 0 when unknown.
  std::int64_t peak_bytes() const;
  int version() const { return version_; }  // 1 or 2
  const std::string& path() const { return path_; }

 private:
  MemoryCgroup(std::string path, int version) : path_(std::move(path)), version_(version) {}
  std::string path_;
  int version_;
};

}  // namespace orch
