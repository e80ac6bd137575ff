#include "host/guard.h"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

namespace orch {
namespace {

[[noreturn]] void child_main(const WorkerMain& worker, int event_fd, pid_t parent) {
  // A worker must not outlive a host that was killed: nobody would record it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(71);  // the host died before prctl took effect
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

void deliver_lines(std::string& buffer, const EventHandler& on_event, bool& finished,
                   std::string& error, std::int64_t& peak) {
  size_t newline;
  while ((newline = buffer.find('\n')) != std::string::npos) {
    std::string line = buffer.substr(0, newline);
    buffer.erase(0, newline + 1);
    auto event = decode_event(line);
    if (!event) continue;
    if (event->kind == WorkerEvent::Kind::kFinished) finished = true;
    if (event->kind == WorkerEvent::Kind::kError) error = event->message;
    peak = std::max(peak, event->peak_rss_bytes);
    on_event(*event);
  }
}

std::string describe_signal(int signal) {
  const char* name = ::strsignal(signal);
  return "worker killed by signal " + std::to_string(signal) + " (" +
         (name ? name : "unknown") + ")";
}

}  // namespace

GuardResult run_guarded(const WorkerMain& worker, const EventHandler& on_event) {
  int fds[2];
  if (::pipe(fds) != 0) {
    throw std::runtime_error(std::string("cannot create a pipe for the worker: ") +
                             std::strerror(errno));
  }
  // Buffered output would otherwise be printed twice, once by each process.
  std::fflush(stdout);
  std::fflush(stderr);
  auto start = std::chrono::steady_clock::now();
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error(std::string("cannot start a worker process: ") +
                             std::strerror(errno));
  }
  if (pid == 0) {
    ::close(fds[0]);
    child_main(worker, fds[1], parent);
  }
  ::close(fds[1]);

  GuardResult result;
  bool finished = false;
  std::string reported_error;
  std::string buffer;
  char chunk[4096];
  for (;;) {
    pollfd poll_fd{fds[0], POLLIN, 0};
    int ready = ::poll(&poll_fd, 1, 50);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    ssize_t got = ::read(fds[0], chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // EOF: the worker closed the pipe, normally by exiting
    buffer.append(chunk, static_cast<size_t>(got));
    deliver_lines(buffer, on_event, finished, reported_error, result.peak_rss_bytes);
  }
  ::close(fds[0]);

  int status = 0;
  rusage usage{};
  while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  result.wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // ru_maxrss is in KiB on Linux.
  result.peak_rss_bytes = std::max<std::int64_t>(result.peak_rss_bytes,
                                                 std::int64_t{usage.ru_maxrss} * 1024);

  if (WIFSIGNALED(status)) {
    result.status = "crashed";
    result.exit_signal = WTERMSIG(status);
    result.error = describe_signal(WTERMSIG(status));
    if (!reported_error.empty()) result.error += " after: " + reported_error;
  } else if (WEXITSTATUS(status) == 0 && finished) {
    result.status = "ok";
  } else {
    result.status = "failed";
    result.error = !reported_error.empty()
                       ? reported_error
                       : "worker exited with code " + std::to_string(WEXITSTATUS(status)) +
                             " without reporting a result";
  }
  return result;
}

}  // namespace orch
