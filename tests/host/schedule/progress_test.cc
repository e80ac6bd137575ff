#include "host/schedule/progress.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

namespace orch {
namespace {

WorkerEvent epoch_event(double other_cpu_cores) {
  WorkerEvent event;
  event.kind = WorkerEvent::Kind::kEpoch;
  event.epoch.epoch = 1;
  event.epoch.other_cpu_cores = other_cpu_cores;
  return event;
}

TEST(ProgressTest, AnEpochLineSaysWhenOtherProcessesKeptTheMachineBusy) {
  std::ostringstream out;
  ProgressPrinter printer(out, false, 1);
  printer.event(1, epoch_event(0.72), 0, 0);
  EXPECT_NE(out.str().find("  busy: others 0.7 cores\n"), std::string::npos) << out.str();
}

TEST(ProgressTest, AQuietOrUnmeasuredEpochSaysNothingAboutIt) {
  std::ostringstream out;
  ProgressPrinter printer(out, false, 1);
  printer.event(1, epoch_event(0.02), 0, 0);
  printer.event(1, epoch_event(std::nan("")), 0, 0);
  EXPECT_EQ(out.str().find("busy"), std::string::npos) << out.str();
}

TEST(ProgressTest, TheLiveStatusLineSaysItToo) {
  std::ostringstream out;
  ProgressPrinter printer(out, true, 1);
  printer.run_started(1, 1, "batch 32");
  WorkerEvent progress = epoch_event(1.3);
  progress.kind = WorkerEvent::Kind::kProgress;
  progress.epochs = 2;
  progress.steps_per_epoch = 10;
  printer.event(1, progress, 0, 0);
  EXPECT_NE(out.str().find("busy: others 1.3 cores"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace orch
