#include "host/machine/machine_facts.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "host/guard/cgroup_membership.h"
#include "host/guard/memory_cgroup.h"
#include "host/machine/admission.h"

namespace orch {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::optional<LoadAverage> parse_loadavg(const std::string& text) {
  std::istringstream fields(text);
  LoadAverage load;
  double five = 0, fifteen = 0;
  char slash = 0;
  if (!(fields >> load.one_minute >> five >> fifteen >> load.runnable >> slash >> load.processes) ||
      slash != '/')
    return std::nullopt;
  return load;
}

std::optional<LoadAverage> read_loadavg() { return parse_loadavg(read_text("/proc/loadavg")); }

std::optional<Swap> parse_swap(const std::string& meminfo) {
  std::istringstream lines(meminfo);
  bool total_seen = false, free_seen = false;
  Swap swap;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string key;
    std::int64_t kib = 0;
    if (!(fields >> key >> kib)) continue;
    if (key == "SwapTotal:") swap.total_bytes = kib * 1024, total_seen = true;
    if (key == "SwapFree:") swap.free_bytes = kib * 1024, free_seen = true;
  }
  if (!total_seen || !free_seen) return std::nullopt;
  return swap;
}

std::optional<Swap> read_swap() { return parse_swap(read_text("/proc/meminfo")); }

std::optional<std::vector<int>> parse_cpu_list(const std::string& text) {
  std::vector<int> cpus;
  std::string trimmed = text;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back())))
    trimmed.pop_back();
  if (trimmed.empty()) return cpus;  // an empty cpuset is a valid, empty list
  std::istringstream ranges(trimmed);
  for (std::string range; std::getline(ranges, range, ',');) {
    const auto dash = range.find('-');
    char* end = nullptr;
    const long first = std::strtol(range.c_str(), &end, 10);
    if (end == range.c_str() || first < 0) return std::nullopt;
    long last = first;
    if (dash != std::string::npos) {
      const char* from = range.c_str() + dash + 1;
      last = std::strtol(from, &end, 10);
      if (end == from) return std::nullopt;
    }
    if (*end != '\0' || last < first) return std::nullopt;
    for (long cpu = first; cpu <= last; ++cpu) cpus.push_back(static_cast<int>(cpu));
  }
  return cpus;
}

std::optional<double> parse_cpu_max(const std::string& text) {
  std::istringstream fields(text);
  std::string quota, period;
  if (!(fields >> quota >> period) || quota == "max") return std::nullopt;
  return parse_cfs_quota(quota, period);
}

std::optional<double> parse_cfs_quota(const std::string& quota, const std::string& period) {
  char* end = nullptr;
  const double quota_us = std::strtod(quota.c_str(), &end);
  if (end == quota.c_str() || quota_us <= 0) return std::nullopt;  // -1: no limit
  const double period_us = std::strtod(period.c_str(), &end);
  if (end == period.c_str() || period_us <= 0) return std::nullopt;
  return quota_us / period_us;
}

std::optional<double> read_cpu_quota() {
  const std::string root = "/sys/fs/cgroup";
  // cgroup v2 where the cpu controller is there; else v1's cpu hierarchy, mounted as cpu/
  // or cpu,cpuacct/ (with cpu a link to it on most systems).
  const bool v2 = read_text(root + "/cgroup.controllers").find("cpu") != std::string::npos;
  const auto own = own_cgroup(v2 ? "" : "cpu");
  if (!own) return std::nullopt;
  std::optional<double> tightest;
  // From this process's cgroup up to the root: a limit anywhere above applies too.
  for (std::string path = *own;;) {
    const std::optional<double> quota =
        v2 ? parse_cpu_max(read_text(root + path + "/cpu.max"))
           : parse_cfs_quota(read_text(root + "/cpu" + path + "/cpu.cfs_quota_us"),
                             read_text(root + "/cpu" + path + "/cpu.cfs_period_us"));
    if (quota && (!tightest || *quota < *tightest)) tightest = quota;
    if (path.empty()) break;
    const auto slash = path.rfind('/');
    path = slash == std::string::npos ? "" : path.substr(0, slash);
  }
  return tightest;
}

std::vector<std::string> read_governors() {
  std::set<std::string> governors;
  const auto online = parse_cpu_list(read_text("/sys/devices/system/cpu/online"));
  for (int cpu : online.value_or(std::vector<int>{})) {
    std::ifstream in("/sys/devices/system/cpu/cpu" + std::to_string(cpu) +
                     "/cpufreq/scaling_governor");
    std::string governor;
    if (in >> governor) governors.insert(governor);
  }
  return {governors.begin(), governors.end()};
}

std::vector<std::string> thread_environment() {
  std::vector<std::string> set;
  for (const char* name : {"OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                           "BLIS_NUM_THREADS", "GOTO_NUM_THREADS"}) {
    if (const char* value = std::getenv(name)) set.push_back(std::string(name) + "=" + value);
  }
  return set;
}

MachineFacts read_machine_facts() {
  MachineFacts facts;
  facts.hardware_threads = std::thread::hardware_concurrency();
  facts.usable_cpus = usable_cpus();
  facts.cpu_quota_cores = read_cpu_quota();
  facts.blas = current_blas();
  facts.memory_cgroup_version = memory_cgroup_version();
  facts.swap = read_swap();
  facts.governors = read_governors();
  facts.thread_environment = thread_environment();
  return facts;
}

}  // namespace orch
