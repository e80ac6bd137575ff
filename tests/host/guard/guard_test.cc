#include "host/guard/guard.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

#include "host/guard/interrupt.h"

namespace orch {
namespace {

void send(int fd, WorkerEvent event) { EventWriter(fd).send(event); }

TEST(GuardTest, AWorkerThatFinishesIsOkAndItsEventsArriveInOrder) {
  std::vector<WorkerEvent::Kind> seen;
  GuardResult result = run_guarded(
      [](int fd) {
        send(fd, {WorkerEvent::Kind::kStarted});
        WorkerEvent epoch{WorkerEvent::Kind::kEpoch};
        epoch.epoch.epoch = 1;
        send(fd, epoch);
        send(fd, {WorkerEvent::Kind::kFinished});
        return 0;
      },
      [&](const WorkerEvent& event) { seen.push_back(event.kind); });
  EXPECT_EQ(result.status, RunStatus::kOk);
  EXPECT_EQ(seen,
            (std::vector<WorkerEvent::Kind>{WorkerEvent::Kind::kStarted, WorkerEvent::Kind::kEpoch,
                                            WorkerEvent::Kind::kFinished}));
  EXPECT_GT(result.peak_rss_bytes, 0);
  EXPECT_GT(result.wall_s, 0);
}

TEST(GuardTest, ASegfaultIsACrashWithItsSignal) {
  GuardResult result = run_guarded(
      [](int) {
        std::raise(SIGSEGV);
        return 0;
      },
      [](const WorkerEvent&) {});
  EXPECT_EQ(result.status, RunStatus::kCrashed);
  ASSERT_TRUE(result.exit_signal);
  EXPECT_EQ(*result.exit_signal, SIGSEGV);
  EXPECT_NE(result.error.find("signal 11"), std::string::npos) << result.error;
}

TEST(GuardTest, AReportedErrorIsAFailureWithTheMessage) {
  GuardResult result = run_guarded(
      [](int fd) {
        WorkerEvent error{WorkerEvent::Kind::kError};
        error.message = "shapes do not match";
        send(fd, error);
        return 1;
      },
      [](const WorkerEvent&) {});
  EXPECT_EQ(result.status, RunStatus::kFailed);
  EXPECT_EQ(result.error, "shapes do not match");
  EXPECT_FALSE(result.exit_signal);
}

TEST(GuardTest, ExitingWithoutAResultIsAFailureNotOk) {
  GuardResult result = run_guarded([](int) { return 0; }, [](const WorkerEvent&) {});
  EXPECT_EQ(result.status, RunStatus::kFailed);
  EXPECT_NE(result.error.find("without reporting a result"), std::string::npos);
}

TEST(GuardTest, TheWorkerMemoryPeakIsMeasuredFromOutside) {
  constexpr std::int64_t kBytes = 256ll << 20;
  GuardResult result = run_guarded(
      [](int fd) {
        std::vector<char> block(kBytes, 1);  // touched, so resident
        send(fd, {WorkerEvent::Kind::kFinished});
        return block[12345] == 1 ? 0 : 1;
      },
      [](const WorkerEvent&) {});
  EXPECT_EQ(result.status, RunStatus::kOk);
  EXPECT_GE(result.peak_rss_bytes, kBytes);
}

std::int64_t own_resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

// Touches `mib` MiB, `step_mib` at a time with a pause between steps, then reports done.
int grow(int fd, int mib, int step_mib, int pause_ms) {
  std::vector<std::vector<char>> blocks;
  for (int done = 0; done < mib; done += step_mib) {
    blocks.emplace_back(static_cast<size_t>(step_mib) << 20, 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
  }
  send(fd, {WorkerEvent::Kind::kFinished});
  return 0;
}

TEST(GuardTest, TheWatchdogStopsAWorkerThatGrowsPastItsBudget) {
  GuardLimits limits;
  limits.budget_bytes = own_resident_bytes() + (128ll << 20);  // no cgroup: watchdog only
  // 8 MiB every 5 ms: the watchdog's 20 ms tick sees every 32 MiB of growth.
  GuardResult result =
      run_guarded([](int fd) { return grow(fd, 1024, 8, 5); }, [](const WorkerEvent&) {}, limits);
  EXPECT_EQ(result.status, RunStatus::kOom);
  EXPECT_EQ(result.stop_layer, kLayerWatchdog);
  EXPECT_GT(result.peak_rss_bytes, limits.budget_bytes);
  // Stopped within a few ticks of crossing (slack for a loaded machine that delays the
  // host): nowhere near the 1 GiB it wanted.
  EXPECT_LT(result.peak_rss_bytes, limits.budget_bytes + (256ll << 20));
  EXPECT_NE(result.error.find("over the budget"), std::string::npos) << result.error;
}

TEST(GuardTest, TheKernelStopsMemoryTheWatchdogCannotSee) {
  GuardLimits limits;
  limits.budget_bytes = own_resident_bytes() + (128ll << 20);
  limits.cgroup_name = "orch-guard-test-" + std::to_string(::getpid());
  GuardResult result = run_guarded(
      [](int fd) {
        // Shared memory written through a file descriptor is charged to the cgroup but is
        // never resident in the process: only the kernel layer can stop it.
        int shm = ::memfd_create("orch-guard-test", 0);
        std::vector<char> chunk(16 << 20, 1);
        for (int i = 0; i < 128; ++i) {
          if (::write(shm, chunk.data(), chunk.size()) < 0) return 2;
        }
        send(fd, {WorkerEvent::Kind::kFinished});
        return 0;
      },
      [](const WorkerEvent&) {}, limits);
  if (!result.cgroup_used) GTEST_SKIP() << "no memory cgroup here: " << result.cgroup_unavailable;
  EXPECT_EQ(result.status, RunStatus::kOom);
  EXPECT_EQ(result.stop_layer, kLayerCgroup) << result.error;
  EXPECT_NE(result.error.find("cgroup limit"), std::string::npos) << result.error;
}

TEST(GuardTest, AWorkerUnderItsBudgetIsUntouched) {
  GuardLimits limits;
  limits.budget_bytes = own_resident_bytes() + (256ll << 20);
  limits.cgroup_name = "orch-guard-test-ok-" + std::to_string(::getpid());
  GuardResult result =
      run_guarded([](int fd) { return grow(fd, 64, 16, 1); }, [](const WorkerEvent&) {}, limits);
  EXPECT_EQ(result.status, RunStatus::kOk) << result.error;
  EXPECT_TRUE(result.stop_layer.empty());
}

TEST(GuardTest, AWorkerPastItsTimeoutIsStopped) {
  GuardLimits limits;
  limits.timeout_s = 0.3;
  auto start = std::chrono::steady_clock::now();
  GuardResult result = run_guarded(
      [](int) {
        std::this_thread::sleep_for(std::chrono::seconds(30));
        return 0;
      },
      [](const WorkerEvent&) {}, limits);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(result.status, RunStatus::kTimeout);
  EXPECT_EQ(result.stop_layer, kLayerTimeout);
  EXPECT_GE(result.wall_s, 0.3);
  EXPECT_LT(took, 5.0);
}

TEST(GuardTest, AnInterruptStopsTheWorkerAndSaysSo) {
  std::thread interrupter([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    request_interrupt();
  });
  GuardResult result = run_guarded(
      [](int) {
        std::this_thread::sleep_for(std::chrono::seconds(30));
        return 0;
      },
      [](const WorkerEvent&) {});
  interrupter.join();
  clear_interrupt();
  EXPECT_EQ(result.status, RunStatus::kInterrupted);
  EXPECT_EQ(result.stop_layer, kLayerInterrupt);
  EXPECT_LT(result.wall_s, 5.0);
}

TEST(GuardTest, AnAllocatorFailureTheBackendRecognisesIsOutOfMemory) {
  GuardResult result = run_guarded(
      [](int fd) {
        WorkerEvent error{WorkerEvent::Kind::kError};
        error.message = "DefaultCPUAllocator: can't allocate memory";
        error.out_of_memory = true;
        send(fd, error);
        return 1;
      },
      [](const WorkerEvent&) {});
  EXPECT_EQ(result.status, RunStatus::kOom);
  EXPECT_EQ(result.stop_layer, kLayerAllocator);
}

}  // namespace
}  // namespace orch
