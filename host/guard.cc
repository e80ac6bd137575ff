#include "host/guard.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include "host/interrupt.h"
#include "host/memory_budget.h"
#include "host/memory_cgroup.h"

namespace orch {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kWatchdogTickMs = 20;

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

[[noreturn]] void child_main(const WorkerMain& worker, int event_fd, int go_fd, pid_t parent,
                             const std::string& log_path) {
  // A worker must not outlive a host that was killed: nobody would record it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(71);  // the host died before prctl took effect
  // Its own process group: a Ctrl-C at the terminal goes to the host, which then stops
  // the worker and records why, instead of both dying at once.
  ::setpgid(0, 0);
  restore_default_signal_handlers();
  redirect_output(log_path);
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

// The worker's resident memory now, from /proc/PID/statm (pages); 0 once it is gone.
std::int64_t resident_bytes(pid_t pid) {
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  std::int64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * ::sysconf(_SC_PAGESIZE);
}

std::string describe_signal(int signal) {
  const char* name = ::strsignal(signal);
  return "worker killed by signal " + std::to_string(signal) + " (" +
         (name ? name : "unknown") + ")";
}

// What the parent learns while the worker runs.
struct Observed {
  bool finished = false;
  std::string reported_error;
  bool reported_oom = false;
  std::int64_t peak = 0;
};

void deliver_lines(std::string& buffer, const EventHandler& on_event, Observed& seen) {
  size_t newline;
  while ((newline = buffer.find('\n')) != std::string::npos) {
    std::string line = buffer.substr(0, newline);
    buffer.erase(0, newline + 1);
    auto event = decode_event(line);
    if (!event) continue;
    if (event->kind == WorkerEvent::Kind::kFinished) seen.finished = true;
    if (event->kind == WorkerEvent::Kind::kError) {
      seen.reported_error = event->message;
      seen.reported_oom = event->out_of_memory;
    }
    seen.peak = std::max(seen.peak, event->peak_rss_bytes);
    on_event(*event);
  }
}

}  // namespace

GuardResult run_guarded(const WorkerMain& worker, const EventHandler& on_event,
                        const GuardLimits& limits) {
  GuardResult result;
  std::unique_ptr<MemoryCgroup> cgroup;
  int events[2], go[2];
  if (::pipe(events) != 0 || ::pipe(go) != 0) {
    throw std::runtime_error(std::string("cannot create a pipe for the worker: ") +
                             std::strerror(errno));
  }
  // Buffered output would otherwise be printed twice, once by each process.
  std::fflush(stdout);
  std::fflush(stderr);
  auto start = Clock::now();
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {events[0], events[1], go[0], go[1]}) ::close(fd);
    throw std::runtime_error(std::string("cannot start a worker process: ") +
                             std::strerror(errno));
  }
  if (pid == 0) {
    ::close(events[0]);
    ::close(go[1]);
    child_main(worker, events[1], go[0], parent, limits.log_path);
  }
  ::close(events[1]);
  ::close(go[0]);
  ::setpgid(pid, pid);  // also here, so it holds whichever process runs first
  if (limits.budget_bytes > 0 && !limits.cgroup_name.empty()) {
    // What the new worker holds now, it shares with the host, and those pages stay charged
    // to the host's cgroup: the worker's cgroup sees only what it adds. Its limit is the
    // budget minus that share, so the kernel stops the worker near the same RSS as the
    // watchdog (a little later: code pages it touches later are charged to neither).
    std::int64_t inherited = resident_bytes(pid);
    std::int64_t limit = std::max(limits.budget_bytes - inherited, std::int64_t{16} << 20);
    cgroup = MemoryCgroup::create(limits.cgroup_name, limit, &result.cgroup_unavailable);
  }
  result.cgroup_used = cgroup && cgroup->add(pid);
  if (cgroup && !result.cgroup_used) result.cgroup_unavailable = "the kernel refused to move the worker into its cgroup";
  std::int64_t oom_kills_before = cgroup ? cgroup->oom_kills() : 0;
  ::close(go[1]);  // EOF on the go pipe: the worker may start

  Observed seen;
  std::string stop_status, stop_layer, stop_reason;
  auto stop = [&](const char* status, const char* layer, std::string reason) {
    if (!stop_status.empty()) return;
    stop_status = status;
    stop_layer = layer;
    stop_reason = std::move(reason);
    ::kill(pid, SIGKILL);
  };

  std::string buffer;
  char chunk[4096];
  for (;;) {
    pollfd poll_fd{events[0], POLLIN, 0};
    int ready = ::poll(&poll_fd, 1, kWatchdogTickMs);
    if (ready > 0) {
      ssize_t got = ::read(events[0], chunk, sizeof chunk);
      if (got == 0 || (got < 0 && errno != EINTR)) break;  // EOF: the worker has exited
      if (got > 0) {
        buffer.append(chunk, static_cast<size_t>(got));
        deliver_lines(buffer, on_event, seen);
      }
    }
    // The watchdog: memory, time and Ctrl-C, checked on every tick and every event.
    std::int64_t rss = resident_bytes(pid);
    seen.peak = std::max(seen.peak, rss);
    if (limits.budget_bytes > 0 && rss > limits.budget_bytes) {
      stop("oom", kLayerWatchdog,
           "out of memory: the worker's resident memory reached " + describe_bytes(rss) +
               ", over the budget of " + describe_bytes(limits.budget_bytes));
    }
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (limits.timeout_s > 0 && elapsed > limits.timeout_s) {
      char text[64];
      std::snprintf(text, sizeof text, "%g", limits.timeout_s);
      stop("timeout", kLayerTimeout,
           std::string("timed out: still running after the timeout of ") + text + " s");
    }
    if (interrupt_requested()) {
      stop("interrupted", kLayerInterrupt, "interrupted (Ctrl-C or SIGTERM); runs again next time");
    }
  }
  ::close(events[0]);

  int status = 0;
  rusage usage{};
  while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  result.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  // ru_maxrss is in KiB on Linux.
  result.peak_rss_bytes = std::max<std::int64_t>(seen.peak, std::int64_t{usage.ru_maxrss} * 1024);
  if (WIFSIGNALED(status)) result.exit_signal = WTERMSIG(status);

  // The kernel's verdict first: when it killed the worker, the watchdog may still have
  // seen the memory climb in the same tick.
  bool kernel_oom = cgroup && cgroup->oom_kills() > oom_kills_before;
  if (kernel_oom) {
    result.status = "oom";
    result.stop_layer = kLayerCgroup;
    result.error = "out of memory: the kernel stopped the worker at its cgroup limit (budget " +
                   describe_bytes(limits.budget_bytes) + ", peak " +
                   describe_bytes(result.peak_rss_bytes) + ")";
  } else if (!stop_status.empty()) {
    result.status = stop_status;
    result.stop_layer = stop_layer;
    result.error = stop_reason;
  } else if (seen.reported_oom) {
    result.status = "oom";
    result.stop_layer = kLayerAllocator;
    result.error = "out of memory: " + seen.reported_error;
  } else if (WIFSIGNALED(status)) {
    result.status = "crashed";
    result.error = describe_signal(WTERMSIG(status));
    if (!seen.reported_error.empty()) result.error += " after: " + seen.reported_error;
  } else if (WEXITSTATUS(status) == 0 && seen.finished && limits.budget_bytes > 0 &&
             result.peak_rss_bytes > limits.budget_bytes) {
    // The kernel's own peak (ru_maxrss) shows a crossing that fell between two samples:
    // the run did not fit its budget, even though nothing stopped it in time.
    result.status = "oom";
    result.stop_layer = kLayerWatchdog;
    result.error = "out of memory: the worker's peak resident memory was " +
                   describe_bytes(result.peak_rss_bytes) + ", over the budget of " +
                   describe_bytes(limits.budget_bytes) + " (between two watchdog samples)";
  } else if (WEXITSTATUS(status) == 0 && seen.finished) {
    result.status = "ok";
  } else {
    result.status = "failed";
    result.error = !seen.reported_error.empty()
                       ? seen.reported_error
                       : "worker exited with code " + std::to_string(WEXITSTATUS(status)) +
                             " without reporting a result";
  }
  return result;
}

}  // namespace orch
