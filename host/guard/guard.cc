#include "host/guard/guard.h"

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>

#include "host/base/memory_budget.h"
#include "host/guard/interrupt.h"
#include "host/guard/memory_cgroup.h"

namespace orch {
namespace {

using Clock = std::chrono::steady_clock;

// The worker's own output goes to its log, so that a run's messages are kept with it
// and do not interleave with the host's progress.
void redirect_output(const std::string& log_path) {
  int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull >= 0) ::dup2(devnull, STDIN_FILENO), ::close(devnull);
  if (log_path.empty()) return;
  int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (log < 0) return;  // the run still goes on, writing to orch's own stderr
  ::dup2(log, STDOUT_FILENO);
  ::dup2(log, STDERR_FILENO);
  ::close(log);
}

// The cores a worker may use. The cpu backend reads its default thread count from the
// affinity mask, so a pinned worker sizes itself to its share.
void pin_to_cpus(const std::vector<int>& cpus) {
  if (cpus.empty()) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int cpu : cpus) CPU_SET(cpu, &set);
  ::sched_setaffinity(0, sizeof set, &set);
}

// glibc returns every freed block of 128 KiB or more to the kernel and maps it fresh on the
// next request, so a model whose step allocates tensors of megabytes (a gradient, Adam's
// temporaries) pays page faults and zeroing of them on every step: half the CPU time of the
// MNIST CNN at batch 2 here (bench/mnist_sweep_bench.sh). Kept in the heap, they are reused.
// 32 MiB is the largest mmap threshold glibc takes.
void keep_large_buffers_in_the_heap() {
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

// The worker's resident memory now, from /proc/PID/statm (pages); 0 once it is gone.
std::int64_t resident_bytes_of(pid_t pid) {
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  std::int64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * ::sysconf(_SC_PAGESIZE);
}

}  // namespace

// Written by the worker's trimming thread, read by the host once the worker is gone: a
// page mapped shared before the fork, so it survives a worker that was killed.
struct HeldMemory {
  std::atomic<std::int64_t> trims{0};
  std::atomic<std::int64_t> peak_after_trim{0};
};

namespace {

// Freed memory that glibc keeps, the top of the heap up to the trim threshold and the
// holes between live blocks, counts against the budget like live tensors do, and how much
// of it a process holds at its peak varies from one run of the same configuration to the
// next: mnist_cnn at batch 58 peaked at 339 MiB in one epoch and 387 MiB in the next try,
// over its 384 MiB budget. Near the budget the worker hands that memory back
// (malloc_trim releases free pages anywhere in the heap), so that a run is stopped for
// what it uses, and its peak is what its tensors need, alike from try to try. Starts a
// thread that trims once resident memory passes `near`; what the worker still holds right
// after each trim goes to `held` for the host.
void start_returning_free_memory(std::int64_t near, std::int64_t budget_bytes, HeldMemory* held) {
  if (budget_bytes <= 0) return;
  std::thread([near, budget_bytes, held] {
    const pid_t self = ::getpid();
    std::int64_t after_last_trim = 0;
    auto last_trim = Clock::now();
    for (;;) {
      const std::int64_t resident = resident_bytes_of(self);
      // Trim again only once the heap has grown by 1% of the budget since the last trim:
      // memory it keeps without growing never reaches the budget, and every trim costs
      // the pages the next step faults in again, which a run whose live memory sits above
      // 90% would pay on every look. Within 2% of the budget, every 50 ms as well.
      const bool at_the_edge = resident > budget_bytes - budget_bytes / 50;
      if (resident > near &&
          (resident > after_last_trim + budget_bytes / 100 ||
           (at_the_edge && Clock::now() - last_trim > std::chrono::milliseconds(50)))) {
        ::malloc_trim(0);
        after_last_trim = resident_bytes_of(self);
        last_trim = Clock::now();
        if (held) {
          held->trims.fetch_add(1, std::memory_order_relaxed);
          if (after_last_trim > held->peak_after_trim.load(std::memory_order_relaxed)) {
            held->peak_after_trim.store(after_last_trim, std::memory_order_relaxed);
          }
        }
      }
      // Every run has a budget, so every worker runs this thread: far below the point
      // where it trims it looks as seldom as the host's watchdog does, close to it every 2 ms.
      const bool close = resident > near - budget_bytes / 10;
      std::this_thread::sleep_for(std::chrono::milliseconds(close ? 2 : 20));
    }
  }).detach();
}

[[noreturn]] void child_main(const WorkerMain& worker, int event_fd, int go_fd, pid_t parent,
                             const GuardLimits& limits, HeldMemory* held) {
  // A worker must not outlive a host that was killed: nobody would record it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(71);  // the host died before prctl took effect
  // Its own process group: a Ctrl-C at the terminal goes to the host, which then stops
  // the worker and records why, instead of both dying at once.
  ::setpgid(0, 0);
  restore_default_signal_handlers();
  redirect_output(limits.log_path);
  pin_to_cpus(limits.cpus);
  keep_large_buffers_in_the_heap();
  const std::int64_t budget =
      limits.run_budget_bytes > 0 ? limits.run_budget_bytes : limits.budget_bytes;
  start_returning_free_memory(
      limits.trim_above_bytes >= 0 ? limits.trim_above_bytes : returns_free_memory_above(budget),
      budget, held);
  // Wait until the host has put this process into its memory cgroup.
  char go = 0;
  while (::read(go_fd, &go, 1) < 0 && errno == EINTR) {
  }
  ::close(go_fd);
  int code = 70;
  try {
    code = worker(event_fd);
  } catch (...) {
    // The worker reports its own errors; anything reaching here is a host bug.
  }
  std::fflush(stdout);
  std::fflush(stderr);
  // _exit: no atexit handlers or static destructors of the parent's state (the database
  // connection among them) may run in the child.
  ::_exit(code);
}

std::string describe_signal(int signal) {
  const char* name = ::strsignal(signal);
  return "worker killed by signal " + std::to_string(signal) + " (" + (name ? name : "unknown") +
         ")";
}

}  // namespace

GuardedWorker::GuardedWorker(const WorkerMain& worker, EventHandler on_event, GuardLimits limits)
    : on_event_(std::move(on_event)), limits_(std::move(limits)) {
  int events[2], go[2];
  if (::pipe(events) != 0) {
    throw std::runtime_error(std::string("cannot create a pipe for the worker: ") +
                             std::strerror(errno));
  }
  if (::pipe(go) != 0) {
    ::close(events[0]);
    ::close(events[1]);
    throw std::runtime_error(std::string("cannot create a pipe for the worker: ") +
                             std::strerror(errno));
  }
  void* page = ::mmap(nullptr, sizeof(HeldMemory), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page != MAP_FAILED) held_ = new (page) HeldMemory();
  // Buffered output would otherwise be printed twice, once by each process.
  std::fflush(stdout);
  std::fflush(stderr);
  start_ = Clock::now();
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {events[0], events[1], go[0], go[1]}) ::close(fd);
    release_held();
    throw std::runtime_error(std::string("cannot start a worker process: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::close(events[0]);
    ::close(go[1]);
    child_main(worker, events[1], go[0], parent, limits_, held_);
  }
  pid_ = pid;
  ::close(events[1]);
  ::close(go[0]);
  ::setpgid(pid, pid);  // also here, so it holds whichever process runs first
  if (limits_.budget_bytes > 0 && !limits_.cgroup_name.empty()) {
    // What the new worker holds now, it shares with the host, and those pages stay charged
    // to the host's cgroup: the worker's cgroup sees only what it adds. Its limit is the
    // budget minus that share, so the kernel stops the worker near the same RSS as the
    // watchdog (a little later: code pages it touches later are charged to neither).
    std::int64_t inherited = resident_bytes_of(pid);
    std::int64_t limit = std::max(limits_.budget_bytes - inherited, std::int64_t{16} << 20);
    cgroup_ = MemoryCgroup::create(limits_.cgroup_name, limit, &result_.cgroup_unavailable);
  }
  result_.cgroup_used = cgroup_ && cgroup_->add(pid);
  if (cgroup_ && !result_.cgroup_used) {
    result_.cgroup_unavailable = "the kernel refused to move the worker into its cgroup";
  }
  oom_kills_before_ = cgroup_ ? cgroup_->oom_kills() : 0;
  ::close(go[1]);  // EOF on the go pipe: the worker may start
  events_fd_ = events[0];
}

GuardedWorker::~GuardedWorker() {
  if (!finished_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    if (events_fd_ >= 0) ::close(events_fd_);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  release_held();
}

void GuardedWorker::release_held() {
  if (held_ == nullptr) return;
  held_->~HeldMemory();
  ::munmap(held_, sizeof(HeldMemory));
  held_ = nullptr;
}

std::int64_t GuardedWorker::resident_bytes() const { return done() ? 0 : resident_bytes_of(pid_); }

double GuardedWorker::seconds_since_fork() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

void GuardedWorker::stop(RunStatus status, const char* layer, std::string reason) {
  if (stop_status_) return;
  stop_status_ = status;
  stop_layer_ = layer;
  stop_reason_ = std::move(reason);
  ::kill(pid_, SIGKILL);
}

void GuardedWorker::deliver_lines() {
  size_t newline;
  while ((newline = buffer_.find('\n')) != std::string::npos) {
    std::string line = buffer_.substr(0, newline);
    buffer_.erase(0, newline + 1);
    auto event = decode_event(line);
    if (!event) continue;
    if (event->kind == WorkerEvent::Kind::kFinished) reported_finished_ = true;
    if (event->kind == WorkerEvent::Kind::kError) {
      reported_error_ = event->message;
      reported_oom_ = event->out_of_memory;
    }
    peak_ = std::max(peak_, event->peak_rss_bytes);
    on_event_(*event);
  }
}

void GuardedWorker::read() {
  if (done()) return;
  char chunk[4096];
  ssize_t got = ::read(events_fd_, chunk, sizeof chunk);
  if (got < 0 && errno == EINTR) return;
  if (got <= 0) {  // EOF: the worker has exited (or its pipe broke)
    ::close(events_fd_);
    events_fd_ = -1;
    return;
  }
  buffer_.append(chunk, static_cast<size_t>(got));
  deliver_lines();
}

void GuardedWorker::check() {
  if (done()) return;
  std::int64_t rss = resident_bytes_of(pid_);
  peak_ = std::max(peak_, rss);
  if (limits_.budget_bytes > 0 && rss > limits_.budget_bytes) {
    stop(RunStatus::kOom, kLayerWatchdog,
         "out of memory: the worker's resident memory reached " + describe_bytes(rss) +
             ", over the budget of " + describe_bytes(limits_.budget_bytes));
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  if (limits_.timeout_s > 0 && elapsed > limits_.timeout_s) {
    char text[64];
    std::snprintf(text, sizeof text, "%g", limits_.timeout_s);
    stop(RunStatus::kTimeout, kLayerTimeout,
         std::string("timed out: still running after the timeout of ") + text + " s");
  }
  if (interrupt_requested()) {
    stop(RunStatus::kInterrupted, kLayerInterrupt,
         "interrupted (Ctrl-C or SIGTERM); runs again next time");
  }
}

GuardResult GuardedWorker::finish() {
  finished_ = true;
  if (events_fd_ >= 0) {
    ::close(events_fd_);
    events_fd_ = -1;
  }
  GuardResult result = std::move(result_);
  int status = 0;
  rusage usage{};
  while (::wait4(pid_, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  result.wall_s = std::chrono::duration<double>(Clock::now() - start_).count();
  // ru_maxrss is in KiB on Linux.
  result.peak_rss_bytes = std::max<std::int64_t>(peak_, std::int64_t{usage.ru_maxrss} * 1024);
  if (WIFSIGNALED(status)) result.exit_signal = WTERMSIG(status);
  if (held_ != nullptr) {
    result.memory_trims = held_->trims.load(std::memory_order_relaxed);
    result.held_peak_bytes = held_->peak_after_trim.load(std::memory_order_relaxed);
  }

  // The kernel's verdict first: when it killed the worker, the watchdog may still have
  // seen the memory climb in the same tick.
  bool kernel_oom = cgroup_ && cgroup_->oom_kills() > oom_kills_before_;
  if (kernel_oom) {
    result.status = RunStatus::kOom;
    result.stop_layer = kLayerCgroup;
    result.error = "out of memory: the kernel stopped the worker at its cgroup limit (budget " +
                   describe_bytes(limits_.budget_bytes) + ", peak " +
                   describe_bytes(result.peak_rss_bytes) + ")";
  } else if (stop_status_) {
    result.status = *stop_status_;
    result.stop_layer = stop_layer_;
    result.error = stop_reason_;
  } else if (reported_oom_) {
    result.status = RunStatus::kOom;
    result.stop_layer = kLayerAllocator;
    result.error = "out of memory: " + reported_error_;
  } else if (WIFSIGNALED(status)) {
    result.status = RunStatus::kCrashed;
    result.error = describe_signal(WTERMSIG(status));
    if (!reported_error_.empty()) result.error += " after: " + reported_error_;
  } else if (WEXITSTATUS(status) == 0 && reported_finished_ && limits_.budget_bytes > 0 &&
             result.peak_rss_bytes > limits_.budget_bytes) {
    // The kernel's own peak (ru_maxrss) shows a crossing that fell between two samples:
    // the run did not fit its budget, even though nothing stopped it in time.
    result.status = RunStatus::kOom;
    result.stop_layer = kLayerWatchdog;
    result.error = "out of memory: the worker's peak resident memory was " +
                   describe_bytes(result.peak_rss_bytes) + ", over the budget of " +
                   describe_bytes(limits_.budget_bytes) + " (between two watchdog samples)";
  } else if (WEXITSTATUS(status) == 0 && reported_finished_) {
    result.status = RunStatus::kOk;
  } else {
    result.status = RunStatus::kFailed;
    result.error = !reported_error_.empty()
                       ? reported_error_
                       : "worker exited with code " + std::to_string(WEXITSTATUS(status)) +
                             " without reporting a result";
  }
  cgroup_.reset();
  return result;
}

std::string describe_memory_trims(std::int64_t trims, std::int64_t held_peak_bytes) {
  if (trims <= 0) return "";
  return "; handed freed memory back " + std::to_string(trims) + (trims == 1 ? " time" : " times") +
         " near the budget, holding at most " + describe_bytes(held_peak_bytes) + " right after";
}

GuardResult run_guarded(const WorkerMain& worker, const EventHandler& on_event,
                        const GuardLimits& limits) {
  GuardedWorker guarded(worker, on_event, limits);
  while (!guarded.done()) {
    pollfd poll_fd{guarded.event_fd(), POLLIN, 0};
    if (::poll(&poll_fd, 1, kWatchdogTickMs) > 0) guarded.read();
    guarded.check();
  }
  return guarded.finish();
}

}  // namespace orch
