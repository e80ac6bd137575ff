// How busy the machine is around a run: the CPU time other processes take on the run's
// cores, and how many tasks besides the run's own are ready to run. The scheduler samples
// /proc about every 100 ms while a worker trains and turns each epoch's samples, and the
// whole run's, into two numbers that go into the database next to the timings they may
// have slowed down.
//
// What counts as "other": everything that ran on the run's cores except the worker (all
// its threads). A pinned run (-j N) is measured on its own cores, so another orch worker
// pinned to other cores is not counted as taking CPU from it (it cannot), while anything
// that does land on the run's cores is, other orch workers included. An unpinned run (-j 1)
// may use every core, so it is measured on all of them. The run queue is machine-wide and
// counts everything runnable besides the worker, other orch workers included. orch's own
// host process counts as other too: it sleeps in poll() and used 0.02 cores here (measured).
//
// The parsers are pure functions of the files' text; ContentionSampler is the thin seam
// that reads them.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

namespace orch {

// What /proc/stat says, in clock ticks since boot.
struct ProcStat {
  // user + nice + system + irq + softirq + steal: time a core was not idle. Steal is
  // time a hypervisor gave the core to another machine, which is contention too.
  std::int64_t busy_ticks = 0;                    // the "cpu" line: all cores
  std::map<int, std::int64_t> busy_ticks_by_cpu;  // the "cpuN" lines
  int procs_running = 0;                          // runnable tasks right now, the reader included
};
std::optional<ProcStat> parse_proc_stat(std::string_view text);

// What /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat says of one process or thread.
struct TaskStat {
  char state = '?';            // 'R' running or runnable, 'S' sleeping, ...
  std::int64_t cpu_ticks = 0;  // utime + stime; a process's covers all its threads
  std::int64_t threads = 0;    // num_threads
};
std::optional<TaskStat> parse_task_stat(std::string_view text);

// One look at the machine and the worker.
struct ContentionSample {
  double at_s = 0;                // monotonic clock
  std::int64_t busy_ticks = 0;    // on the run's cores (all cores when it is not pinned)
  std::int64_t worker_ticks = 0;  // the worker's own CPU time
  int others_runnable = 0;        // procs_running besides the worker's threads and the reader
};

struct Contention {
  // Cores' worth of CPU time others took: (busy - worker) CPU seconds / wall seconds.
  double other_cpu_cores = std::numeric_limits<double>::quiet_NaN();
  // The mean of others_runnable over the interval's samples.
  double run_queue = std::numeric_limits<double>::quiet_NaN();
};

// Contention over one interval (an epoch, a whole run): begin() with a sample, add() every
// later one; the result covers the first to the last.
class ContentionInterval {
 public:
  void begin(const ContentionSample& sample);
  void add(const ContentionSample& sample);
  // The next interval, beginning where this one's last sample ended it.
  void restart();
  bool begun() const { return first_.has_value(); }
  // NaN fields until a later sample at least kShortestS after the first was added;
  // `ticks_per_s` converts the ticks.
  Contention result(double ticks_per_s) const;

  // /proc/stat counts whole ticks (10 ms): a tick or two of rounding on the run's busy
  // cores reads as a tenth of a core over half a second, and as much as the busy threshold
  // over a tenth. Shorter intervals (a tiny epoch) are left unmeasured; the run still is.
  static constexpr double kShortestS = 0.5;

 private:
  std::optional<ContentionSample> first_;
  std::optional<ContentionSample> last_;
  double runnable_sum_ = 0;
  int samples_ = 0;
};

// Reads /proc for one worker. Two small files per sample, plus one per worker thread when
// the worker has several (to leave its running threads out of the run queue).
class ContentionSampler {
 public:
  // `cpus`: the cores the worker is pinned to; empty when it may use every core.
  ContentionSampler(int worker_pid, std::vector<int> cpus);
  // Nothing when /proc cannot be read (not Linux, or the worker is gone).
  std::optional<ContentionSample> sample() const;
  // Clock ticks per second of /proc's counters (USER_HZ, 100 on Linux).
  static double ticks_per_second();

 private:
  int pid_;
  std::vector<int> cpus_;
};

// A run's contention as the scheduler keeps it: sampled about every 100 ms from when its
// worker is ready, one interval per epoch (restarted at each epoch's end) and one for the
// whole run.
class RunContention {
 public:
  static constexpr double kSampleEveryS = 0.1;

  // The worker is ready: its first step comes next. `cpus` as for ContentionSampler.
  void start(int worker_pid, std::vector<int> cpus);
  // Samples when the last sample is kSampleEveryS old; cheap to call on every tick.
  void tick();
  // The epoch that just ended, from a fresh sample; the next epoch starts here.
  Contention end_epoch();
  // The epoch going on so far, for the live progress line.
  Contention epoch_so_far() const;
  // The whole run, from a fresh sample when the worker can still be read.
  Contention end_run();

 private:
  void take_sample();

  std::optional<ContentionSampler> sampler_;
  ContentionInterval epoch_, run_;
  double last_sample_s_ = 0;
};

// The run queue besides the worker: procs_running less the reader (it is running while it
// reads) and the worker's running threads; never below zero.
int others_runnable(int procs_running, int worker_running_threads);

// The busy ticks of `cpus` (all cores when empty); cores /proc/stat does not list (offline)
// add nothing.
std::int64_t busy_ticks_on(const ProcStat& stat, const std::vector<int>& cpus);

}  // namespace orch
