// The facts about this machine that decide whether its timings can be trusted: cores and
// affinity, swap, the CPU frequency governor, the BLAS library, the memory cgroup, and
// how busy the machine is right now. Read from /proc and /sys without LibTorch; each
// parser takes the file's text so that it can be tested on other machines' files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "host/machine/blas_library.h"

namespace orch {

// /proc/loadavg: "0.52 0.58 0.59 2/613 12345".
struct LoadAverage {
  double one_minute = 0;
  int runnable = 0;  // processes running or ready to run when it was read, the reader included
  int processes = 0;
};
std::optional<LoadAverage> parse_loadavg(const std::string& text);
std::optional<LoadAverage> read_loadavg();

// SwapTotal and SwapFree from /proc/meminfo.
struct Swap {
  std::int64_t total_bytes = 0;
  std::int64_t free_bytes = 0;
  std::int64_t used_bytes() const { return total_bytes - free_bytes; }
};
std::optional<Swap> parse_swap(const std::string& meminfo);
std::optional<Swap> read_swap();

// A kernel CPU list ("0-3,8,10-11", as in /sys/devices/system/cpu/online or a cpuset) as
// CPU numbers; nothing when the text is not one.
std::optional<std::vector<int>> parse_cpu_list(const std::string& text);

// The CPU time a cgroup may use, in cores: cgroup v2's cpu.max ("150000 100000" is 1.5
// cores; "max 100000" is no limit), or v1's cpu.cfs_quota_us (-1: no limit) over
// cpu.cfs_period_us. Nothing when there is no limit or the text is not one.
std::optional<double> parse_cpu_max(const std::string& text);
std::optional<double> parse_cfs_quota(const std::string& quota, const std::string& period);

// The tightest CPU quota on this process's cgroup and its ancestors (a container's or a
// systemd slice's), in cores; nothing when there is none or it cannot be read.
std::optional<double> read_cpu_quota();

// The scaling governor of every CPU whose cpufreq folder is readable, one entry per
// distinct governor ("performance", "powersave", ...); empty when none is readable, as in
// most virtual machines.
std::vector<std::string> read_governors();

// Environment variables that set thread counts for OpenMP and the BLAS libraries, those
// set, as NAME=VALUE.
std::vector<std::string> thread_environment();

// The facts that go into every experiment's machine record and `orch doctor`; what changes
// from minute to minute (the load) is not among them.
struct MachineFacts {
  unsigned hardware_threads = 0;          // std::thread::hardware_concurrency
  std::vector<int> usable_cpus;           // this process's affinity
  std::optional<double> cpu_quota_cores;  // nothing: no CPU quota
  BlasLibrary blas;
  int memory_cgroup_version = 0;  // 0: no memory controller
  std::optional<Swap> swap;
  std::vector<std::string> governors;
  std::vector<std::string> thread_environment;
};
MachineFacts read_machine_facts();

}  // namespace orch
