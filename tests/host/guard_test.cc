#include "host/guard.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <vector>

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
  EXPECT_EQ(result.status, "ok");
  EXPECT_EQ(seen, (std::vector<WorkerEvent::Kind>{WorkerEvent::Kind::kStarted,
                                                  WorkerEvent::Kind::kEpoch,
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
  EXPECT_EQ(result.status, "crashed");
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
  EXPECT_EQ(result.status, "failed");
  EXPECT_EQ(result.error, "shapes do not match");
  EXPECT_FALSE(result.exit_signal);
}

TEST(GuardTest, ExitingWithoutAResultIsAFailureNotOk) {
  GuardResult result = run_guarded([](int) { return 0; }, [](const WorkerEvent&) {});
  EXPECT_EQ(result.status, "failed");
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
  EXPECT_EQ(result.status, "ok");
  EXPECT_GE(result.peak_rss_bytes, kBytes);
}

}  // namespace
}  // namespace orch
