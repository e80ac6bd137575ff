// Which runs of a parallel sweep may start now: each takes cores and its memory budget,
// and starts only when both fit beside the runs already going. Knows nothing of processes;
// the scheduler asks it and pins each worker to the cores it was given.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace orch {

class Admission {
 public:
  // `cpus`: the cores this orch may use (its affinity); `memory_bytes`: what runs may hold
  // together (the memory available when the sweep started); `jobs`: runs at once.
  Admission(std::vector<int> cpus, std::int64_t memory_bytes, int jobs);

  // The cores a run gets: its fixed thread count (at most all cores), else an equal share.
  int cores_for(std::int64_t fixed_threads) const;

  // Takes `cores` free cores and `budget_bytes` of memory and returns the cores, or nothing
  // when the run must wait: all job slots busy, too few free cores, or its budget does not
  // fit beside the running runs' budgets. A run always fits an idle machine, however large.
  std::optional<std::vector<int>> admit(int cores, std::int64_t budget_bytes);
  void release(const std::vector<int>& cpus, std::int64_t budget_bytes);

  bool idle() const { return running_ == 0; }
  int running() const { return running_; }
  std::int64_t memory_in_use() const { return memory_in_use_; }
  std::int64_t memory_bytes() const { return memory_bytes_; }

 private:
  std::vector<int> cpus_;
  std::vector<bool> busy_;  // per entry of cpus_
  std::int64_t memory_bytes_;
  int jobs_;
  int running_ = 0;
  std::int64_t memory_in_use_ = 0;
};

// The cores this process may run on, from its affinity mask (a Slurm task sees its own).
std::vector<int> usable_cpus();

// "0-3,6" for {0,1,2,3,6}.
std::string describe_cpus(const std::vector<int>& cpus);

}  // namespace orch
