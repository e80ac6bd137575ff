#include "host/machine/admission.h"

#include <sched.h>

#include <algorithm>
#include <thread>

namespace orch {

Admission::Admission(std::vector<int> cpus, std::int64_t memory_bytes, int jobs)
    : cpus_(std::move(cpus)),
      busy_(cpus_.size(), false),
      memory_bytes_(memory_bytes),
      jobs_(std::max(1, jobs)) {
  if (cpus_.empty()) {
    cpus_.push_back(0);
    busy_.push_back(false);
  }
}

int Admission::cores_for(std::int64_t fixed_threads) const {
  const int all = static_cast<int>(cpus_.size());
  if (fixed_threads > 0) return static_cast<int>(std::min<std::int64_t>(fixed_threads, all));
  return std::max(1, all / jobs_);
}

std::optional<std::vector<int>> Admission::admit(int cores, std::int64_t budget_bytes) {
  if (running_ >= jobs_) return std::nullopt;
  cores = std::clamp(cores, 1, static_cast<int>(cpus_.size()));
  const bool fits_memory = running_ == 0 || memory_in_use_ + budget_bytes <= memory_bytes_;
  if (!fits_memory) return std::nullopt;
  std::vector<size_t> free;
  for (size_t i = 0; i < cpus_.size() && static_cast<int>(free.size()) < cores; ++i) {
    if (!busy_[i]) free.push_back(i);
  }
  if (static_cast<int>(free.size()) < cores) return std::nullopt;
  std::vector<int> taken;
  for (size_t i : free) {
    busy_[i] = true;
    taken.push_back(cpus_[i]);
  }
  ++running_;
  memory_in_use_ += budget_bytes;
  return taken;
}

void Admission::release(const std::vector<int>& cpus, std::int64_t budget_bytes) {
  for (int cpu : cpus) {
    auto at = std::find(cpus_.begin(), cpus_.end(), cpu);
    if (at != cpus_.end()) busy_[at - cpus_.begin()] = false;
  }
  running_ = std::max(0, running_ - 1);
  memory_in_use_ = std::max<std::int64_t>(0, memory_in_use_ - budget_bytes);
}

std::vector<int> usable_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    }
  }
  if (cpus.empty()) {
    for (unsigned cpu = 0; cpu < std::max(1u, std::thread::hardware_concurrency()); ++cpu) {
      cpus.push_back(static_cast<int>(cpu));
    }
  }
  return cpus;
}

std::string describe_cpus(const std::vector<int>& cpus) {
  std::vector<int> sorted = cpus;
  std::sort(sorted.begin(), sorted.end());
  std::string text;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
    if (!text.empty()) text += ",";
    text += std::to_string(sorted[i]);
    if (j > i) text += "-" + std::to_string(sorted[j]);
    i = j + 1;
  }
  return text;
}

}  // namespace orch
