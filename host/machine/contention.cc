#include "host/machine/contention.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <string>

namespace orch {
namespace {

// The next whitespace-separated number in `text` from `at`; nothing at the end of a line.
std::optional<std::int64_t> next_number(std::string_view text, size_t& at) {
  while (at < text.size() && text[at] == ' ') ++at;
  if (at >= text.size() || text[at] == '\n') return std::nullopt;
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data() + at, text.data() + text.size(), value);
  if (error != std::errc()) return std::nullopt;
  at = static_cast<size_t>(end - text.data());
  return value;
}

// user nice system idle iowait irq softirq steal (guest and guest_nice are already in user
// and nice); fields an old kernel does not have count as zero.
std::int64_t busy_of_cpu_line(std::string_view text, size_t at) {
  constexpr bool kBusy[] = {true, true, true, false, false, true, true, true};
  std::int64_t busy = 0;
  for (bool counts : kBusy) {
    auto value = next_number(text, at);
    if (!value) break;
    if (counts) busy += *value;
  }
  return busy;
}

// A /proc file's whole text; /proc files report size 0, so read until the end.
std::optional<std::string> read_proc_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buffer[4096];
  ssize_t got;
  while ((got = ::read(fd, buffer, sizeof buffer)) > 0)
    text.append(buffer, static_cast<size_t>(got));
  ::close(fd);
  if (got < 0) return std::nullopt;
  return text;
}

// How many of the worker's threads are running or runnable right now.
int running_threads(int pid, const TaskStat& process) {
  if (process.threads <= 1) return process.state == 'R' ? 1 : 0;
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = ::opendir(tasks.c_str());
  if (dir == nullptr) return process.state == 'R' ? 1 : 0;
  int running = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    auto text = read_proc_file(tasks + "/" + entry->d_name + "/stat");
    auto thread = text ? parse_task_stat(*text) : std::nullopt;
    if (thread && thread->state == 'R') ++running;
  }
  ::closedir(dir);
  return running;
}

double monotonic_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  ProcStat stat;
  bool saw_total = false;
  size_t line_start = 0;
  while (line_start < text.size()) {
    size_t line_end = text.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = text.size();
    std::string_view line = text.substr(line_start, line_end - line_start);
    if (line.rfind("cpu ", 0) == 0) {
      stat.busy_ticks = busy_of_cpu_line(line, 4);
      saw_total = true;
    } else if (line.rfind("cpu", 0) == 0) {
      size_t at = 3;
      auto cpu = next_number(line, at);
      if (cpu) stat.busy_ticks_by_cpu[static_cast<int>(*cpu)] = busy_of_cpu_line(line, at);
    } else if (line.rfind("procs_running ", 0) == 0) {
      size_t at = 14;
      if (auto running = next_number(line, at)) stat.procs_running = static_cast<int>(*running);
    }
    line_start = line_end + 1;
  }
  if (!saw_total) return std::nullopt;
  return stat;
}

std::optional<TaskStat> parse_task_stat(std::string_view text) {
  // The command name sits in parentheses and may itself hold spaces and ')': the fields
  // start after the last ')'.
  size_t close = text.rfind(')');
  if (close == std::string_view::npos || close + 2 >= text.size()) return std::nullopt;
  TaskStat stat;
  stat.state = text[close + 2];
  size_t at = close + 3;
  // After the state: ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
  // utime stime cutime cstime priority nice num_threads.
  std::int64_t fields[17];
  for (auto& field : fields) {
    auto value = next_number(text, at);
    if (!value) return std::nullopt;
    field = *value;
  }
  stat.cpu_ticks = fields[10] + fields[11];
  stat.threads = fields[16];
  return stat;
}

int others_runnable(int procs_running, int worker_running_threads) {
  return std::max(0, procs_running - 1 - worker_running_threads);
}

std::int64_t busy_ticks_on(const ProcStat& stat, const std::vector<int>& cpus) {
  if (cpus.empty()) return stat.busy_ticks;
  std::int64_t busy = 0;
  for (int cpu : cpus) {
    auto found = stat.busy_ticks_by_cpu.find(cpu);
    if (found != stat.busy_ticks_by_cpu.end()) busy += found->second;
  }
  return busy;
}

void ContentionInterval::begin(const ContentionSample& sample) {
  first_ = sample;
  last_.reset();
  runnable_sum_ = 0;
  samples_ = 0;
}

void ContentionInterval::restart() {
  if (last_) begin(*last_);
}

void ContentionInterval::add(const ContentionSample& sample) {
  // A worker's CPU time never goes back: a sample where it did read another process (the
  // pid reused after the worker was reaped) and would count the worker's time as others'.
  if (!first_) return;
  const ContentionSample& previous = last_ ? *last_ : *first_;
  if (sample.worker_ticks < previous.worker_ticks) return;
  last_ = sample;
  runnable_sum_ += sample.others_runnable;
  ++samples_;
}

Contention ContentionInterval::result(double ticks_per_s) const {
  Contention contention;
  if (!first_ || !last_ || ticks_per_s <= 0) return contention;
  const double wall_s = last_->at_s - first_->at_s;
  if (wall_s < kShortestS) return contention;
  const double others_ticks = static_cast<double>((last_->busy_ticks - first_->busy_ticks) -
                                                  (last_->worker_ticks - first_->worker_ticks));
  // /proc/stat counts whole ticks while the worker's time is exact: over a short interval
  // the difference can dip just below zero.
  contention.other_cpu_cores = std::max(0.0, others_ticks / ticks_per_s / wall_s);
  contention.run_queue = runnable_sum_ / samples_;
  return contention;
}

ContentionSampler::ContentionSampler(int worker_pid, std::vector<int> cpus)
    : pid_(worker_pid), cpus_(std::move(cpus)) {}

std::optional<ContentionSample> ContentionSampler::sample() const {
  auto machine_text = read_proc_file("/proc/stat");
  auto worker_text = read_proc_file("/proc/" + std::to_string(pid_) + "/stat");
  if (!machine_text || !worker_text) return std::nullopt;
  auto machine = parse_proc_stat(*machine_text);
  auto worker = parse_task_stat(*worker_text);
  if (!machine || !worker) return std::nullopt;
  ContentionSample sample;
  sample.at_s = monotonic_seconds();
  sample.busy_ticks = busy_ticks_on(*machine, cpus_);
  sample.worker_ticks = worker->cpu_ticks;
  sample.others_runnable = others_runnable(machine->procs_running, running_threads(pid_, *worker));
  return sample;
}

void RunContention::start(int worker_pid, std::vector<int> cpus) {
  sampler_.emplace(worker_pid, std::move(cpus));
  if (auto sample = sampler_->sample()) {
    epoch_.begin(*sample);
    run_.begin(*sample);
    last_sample_s_ = sample->at_s;
  }
}

void RunContention::take_sample() {
  if (!sampler_) return;
  auto sample = sampler_->sample();
  if (!sample) return;
  epoch_.add(*sample);
  run_.add(*sample);
  last_sample_s_ = sample->at_s;
}

void RunContention::tick() {
  if (!sampler_) return;
  if (monotonic_seconds() - last_sample_s_ >= kSampleEveryS) take_sample();
}

Contention RunContention::end_epoch() {
  take_sample();
  Contention epoch = epoch_.result(ContentionSampler::ticks_per_second());
  epoch_.restart();
  return epoch;
}

Contention RunContention::epoch_so_far() const {
  return epoch_.result(ContentionSampler::ticks_per_second());
}

Contention RunContention::end_run() {
  take_sample();
  return run_.result(ContentionSampler::ticks_per_second());
}

double ContentionSampler::ticks_per_second() {
  static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return ticks;
}

}  // namespace orch
