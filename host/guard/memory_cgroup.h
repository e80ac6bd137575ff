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

// Whether this machine can give a worker a kernel-enforced memory limit: the cgroup
// version with a memory controller (0 = none) and whether a cgroup could be made (a
// trial one is created and removed), or one sentence saying why not.
struct MemoryCgroupCheck {
  int version = 0;
  bool can_create = false;
  std::string why_not;
};

// Creates and removes a trial cgroup named `name` (e.g. "orch-1234-check"). What
// `orch run` says about enforcement and what `orch doctor` reports both come from here.
MemoryCgroupCheck check_memory_cgroup(const std::string& name);

// 2 when /sys/fs/cgroup is cgroup v2 with the memory controller, 1 when the v1 memory
// controller is mounted there, 0 otherwise.
int memory_cgroup_version();

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
