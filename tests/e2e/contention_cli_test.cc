// End-to-end tests of how orch measures a busy machine: a real sweep on a quiet machine,
// checked against the test's own measurement of the machine, and the same sweep with a
// real competing process spinning beside it, which every epoch, the run, the progress
// lines, `orch report` and the HTML report must name.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "e2e_support.h"

namespace {

using namespace orch::e2e;

const std::string kOrch = ORCH_BINARY;
constexpr auto kOrchTimeout = std::chrono::seconds(120);

// One thread, two epochs of about a second each on a quiet machine: long enough that a
// short burst of another process does not make a whole epoch busy.
const char* const kSweep =
    "[experiment]\nname = \"contention\"\nseed = 7\n\n"
    "[backend]\nplugin = \"cpu\"\nthreads = 1\n\n"
    "[dataset]\nplugin = \"synthetic\"\nsamples = 8192\nval_samples = 512\n"
    "features = 64\nclasses = 4\n\n"
    "[model]\nplugin = \"mlp\"\nhidden = 256\nlayers = 2\n\n"
    "[train]\nepochs = 2\nbatch_size = 32\nwarmup_steps = 3\n";

// The machine's busy CPU seconds and this process's waited-for children's, now: what the
// test measures independently of orch.
struct CpuClock {
  double at_s = 0;
  double machine_busy_s = 0;  // user + nice + system + irq + softirq + steal, all cores
  double children_s = 0;      // orch and, through it, its workers
};

CpuClock cpu_clock() {
  CpuClock clock;
  clock.at_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  std::istringstream line(lines_of(read_text("/proc/stat")).at(0));
  std::string cpu;
  long long user, nice, system, idle, iowait, irq, softirq, steal = 0;
  line >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  clock.machine_busy_s =
      double(user + nice + system + irq + softirq + steal) / double(::sysconf(_SC_CLK_TCK));
  rusage children{};
  ::getrusage(RUSAGE_CHILDREN, &children);
  clock.children_s = children.ru_utime.tv_sec + children.ru_utime.tv_usec * 1e-6 +
                     children.ru_stime.tv_sec + children.ru_stime.tv_usec * 1e-6;
  return clock;
}

// Cores' worth of CPU that processes other than orch and its workers used in between.
double others_between(const CpuClock& from, const CpuClock& to) {
  return ((to.machine_busy_s - from.machine_busy_s) - (to.children_s - from.children_s)) /
         (to.at_s - from.at_s);
}

class ContentionCliTest : public FreshDirectoryTest {
 protected:
  ContentionCliTest() : FreshDirectoryTest("contention_test") {}
  void SetUp() override {
    FreshDirectoryTest::SetUp();
    db_ = path("history.db");
  }
  RunResult orch(const std::vector<std::string>& args) {
    return run_in(dir_, kOrch, args, {}, kOrchTimeout);
  }
  double real(const std::string& sql) { return real_value(db_, sql); }
  std::string db_;
};

TEST_F(ContentionCliTest, AQuietMachineIsMeasuredQuietAndTheWorkersOwnCpuIsNotOthers) {
  const CpuClock before = cpu_clock();
  RunResult run = orch({"run", write_file("sweep.toml", kSweep), "--db", db_});
  const CpuClock after = cpu_clock();
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  const double others = others_between(before, after);

  const double recorded = real("SELECT other_cpu_cores FROM runs");
  ASSERT_TRUE(recorded >= 0) << "not measured: " << recorded;
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM epochs WHERE other_cpu_cores >= 0 AND run_queue >= 0"),
            2);
  // orch agrees with the test's own measurement; had it counted its worker (a whole
  // core) as another process, it would be a core above it.
  EXPECT_NEAR(recorded, others, 0.35) << "orch recorded " << recorded << " cores of others; the "
                                      << "test measured " << others;
  if (others > 0.05) {
    GTEST_SKIP() << "other processes used " << others << " cores during the run: this machine "
                 << "is not quiet enough to check that a quiet run is not flagged";
  }
  EXPECT_LT(recorded, 0.25);
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM epochs WHERE other_cpu_cores >= 0.25"), 0);
  EXPECT_EQ(text_value(db_, "SELECT COALESCE(busy, '') FROM runs"), "");
  EXPECT_FALSE(contains(run.out, "busy")) << run.out;
}

TEST_F(ContentionCliTest, AProcessSpinningBesideTheRunIsRecordedPerEpochAndFlaggedEverywhere) {
  RunResult run;
  {
    BusyProcess competitor(0);
    run = orch({"run", write_file("sweep.toml", kSweep), "--db", db_});
  }
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;

  // The competitor spins on a whole core (half of one when it shares it with the worker);
  // it is always runnable.
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM epochs WHERE other_cpu_cores >= 0.5"), 2)
      << text_value(db_, "SELECT GROUP_CONCAT(other_cpu_cores, ' ') FROM epochs");
  EXPECT_EQ(count(db_, "SELECT COUNT(*) FROM epochs WHERE run_queue >= 0.8"), 2)
      << text_value(db_, "SELECT GROUP_CONCAT(run_queue, ' ') FROM epochs");
  EXPECT_GE(real("SELECT other_cpu_cores FROM runs"), 0.5);
  const std::string busy = text_value(db_, "SELECT busy FROM runs");
  EXPECT_EQ(busy.rfind("machine busy: other processes used ", 0), 0u) << busy;
  EXPECT_TRUE(contains(busy, " cores during run 1 (epochs 1-2)")) << busy;

  // Live: each epoch's progress line, and the run's outcome line.
  EXPECT_TRUE(contains(run.out, "busy: others ")) << run.out;
  EXPECT_TRUE(contains(run.out, busy)) << run.out;

  // The run table marks the run and says why under it; the HTML page says it beside the
  // answer.
  const std::string html = path("report.html");
  RunResult report = orch({"report", "--db", db_, "--html", html});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  EXPECT_TRUE(contains(report.out, "other cores")) << report.out;
  bool row_marked = false;
  for (const auto& line : lines_of(report.out)) {
    if (line.rfind("  1  ", 0) == 0) row_marked = contains(line, " busy");
  }
  EXPECT_TRUE(row_marked) << report.out;
  EXPECT_TRUE(has_line_starting_with(report.out, busy)) << report.out;
  EXPECT_TRUE(contains(read_text(html), "<pre class=\"busy\">" + busy)) << read_text(html);

  // `orch best` says it under the answer a person acts on.
  RunResult best = orch({"best", "--db", db_});
  ASSERT_EQ(best.exit_code, 0) << best.err;
  EXPECT_TRUE(contains(best.out, "\n  " + busy + "\n")) << best.out;
}

TEST_F(ContentionCliTest, APinnedRunIsMeasuredOnItsOwnCores) {
  if (::sysconf(_SC_NPROCESSORS_ONLN) < 2) GTEST_SKIP() << "-j 2 needs two cores";
  // Two runs at once, each pinned to a core of its own; the competitor spins on core 0.
  const std::string sweep = std::string(kSweep) + "\n[sweep]\n\"train.batch_size\" = [32, 64]\n";
  RunResult run;
  {
    BusyProcess competitor(0);
    run = orch({"run", write_file("sweep.toml", sweep), "--db", db_, "-j", "2"});
  }
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  // The run on core 0 shared it with the competitor: about half a core each.
  const double on_core_0 = real("SELECT other_cpu_cores FROM runs WHERE cpu_set = '0'");
  EXPECT_GE(on_core_0, 0.35) << run.out;
  EXPECT_EQ(count(db_,
                  "SELECT COUNT(*) FROM runs WHERE cpu_set = '0' AND busy LIKE "
                  "'machine busy: %'"),
            1)
      << run.out;
}

}  // namespace
