#include "host/schedule/worker_launcher.h"

#include <poll.h>

#include "host/training/training_library.h"

namespace orch {
namespace {

class ForkedWorker : public LaunchedWorker {
 public:
  ForkedWorker(const WorkerMain& main, EventHandler on_event, const GuardLimits& limits)
      : guarded_(main, std::move(on_event), limits) {}

  int pid() const override { return guarded_.pid(); }
  bool done() const override { return guarded_.done(); }
  std::int64_t resident_bytes() const override { return guarded_.resident_bytes(); }
  double seconds_since_start() const override { return guarded_.seconds_since_fork(); }
  void stop_early(RunStatus status, std::string why) override {
    guarded_.stop_early(status, std::move(why));
  }
  GuardResult finish() override { return guarded_.finish(); }

  GuardedWorker& guarded() { return guarded_; }

 private:
  GuardedWorker guarded_;
};

class ForkingLauncher : public WorkerLauncher {
 public:
  explicit ForkingLauncher(const PluginCatalog& catalog) : catalog_(catalog) {}

  std::unique_ptr<LaunchedWorker> start(const RunSpec& run, const GuardLimits& limits,
                                        EventHandler on_event) override {
    WorkerBody body = load_worker_body();  // loaded in the host, before the fork
    const PluginCatalog* catalog = &catalog_;
    // The child runs the body right after the fork, with its own copy of `run`.
    return std::make_unique<ForkedWorker>(
        [&run, catalog, body](int event_fd) { return body(run, *catalog, event_fd, 0); },
        std::move(on_event), limits);
  }

  void watch(const std::vector<LaunchedWorker*>& workers) override {
    std::vector<GuardedWorker*> guarded;
    std::vector<pollfd> fds;
    for (LaunchedWorker* worker : workers) {
      guarded.push_back(&static_cast<ForkedWorker*>(worker)->guarded());
      fds.push_back({guarded.back()->event_fd(), POLLIN, 0});
    }
    const int ready = ::poll(fds.data(), fds.size(), kWatchdogTickMs);
    for (size_t i = 0; i < guarded.size(); ++i) {
      if (ready > 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) guarded[i]->read();
      guarded[i]->check();
    }
  }

 private:
  const PluginCatalog& catalog_;
};

}  // namespace

std::unique_ptr<WorkerLauncher> forking_launcher(const PluginCatalog& catalog) {
  return std::make_unique<ForkingLauncher>(catalog);
}

}  // namespace orch
