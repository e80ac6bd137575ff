#include "host/schedule/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "host/base/memory_budget.h"
#include "host/base/table.h"
#include "host/machine/machine_busy.h"

namespace orch {
namespace {

std::string clock_text(double seconds) {
  if (seconds < 0) seconds = 0;
  long total = static_cast<long>(seconds + 0.5);
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", total / 3600, total / 60 % 60, total % 60);
  } else {
    std::snprintf(text, sizeof text, "%ld:%02ld", total / 60, total % 60);
  }
  return text;
}

// "  busy: others 0.7 cores" when other processes take a noticeable share of the CPU.
std::string busy_text(double other_cpu_cores) {
  if (!machine_was_busy(other_cpu_cores)) return "";
  return "  busy: others " + format_fixed(other_cpu_cores, 1) + " cores";
}

}  // namespace

bool stdout_is_terminal() {
  const char* term = std::getenv("TERM");
  return ::isatty(STDOUT_FILENO) && !(term && std::strcmp(term, "dumb") == 0);
}

ProgressPrinter::ProgressPrinter(std::ostream& out, bool terminal, int runs, bool parallel)
    : out_(out), terminal_(terminal && !parallel), runs_(runs), parallel_(parallel) {}

void ProgressPrinter::clear_status() {
  if (status_shown_) out_ << "\r\033[K";
  status_shown_ = false;
}

std::string ProgressPrinter::eta(double fraction_of_run) const {
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start_).count();
  // The rest of this run from its own pace, the runs after it from the average so far.
  double this_run_left = fraction_of_run > 0.01 ? elapsed / fraction_of_run - elapsed : 0;
  double per_run =
      finished_ ? finished_wall_s_ / finished_ : elapsed / std::max(fraction_of_run, 0.01);
  // Without a count (a search bounded by time), only this run's rest is known.
  return clock_text(this_run_left + per_run * std::max(0, runs_ - index_));
}

void ProgressPrinter::run_started(int index, std::int64_t run_id, const std::string& label) {
  clear_status();
  index_ = index;
  run_start_ = std::chrono::steady_clock::now();
  // A search bounded only by time does not know how many points it will run.
  out_ << "[" << index;
  if (runs_ > 0) out_ << "/" << runs_;
  out_ << "] run " << run_id << "  " << label << "\n" << std::flush;
}

void ProgressPrinter::retry(std::int64_t run_id, const std::string& note) {
  clear_status();
  out_ << "  retry as run " << run_id << ": " << note << "\n" << std::flush;
}

std::string ProgressPrinter::tag(std::int64_t run_id) const {
  return parallel_ ? "  run " + std::to_string(run_id) + ":" : " ";
}

void ProgressPrinter::event(std::int64_t run_id, const WorkerEvent& event, std::int64_t rss_bytes,
                            std::int64_t budget_bytes) {
  const auto& e = event.epoch;
  if (event.kind == WorkerEvent::Kind::kProgress && terminal_) {
    double fraction = event.epochs && event.steps_per_epoch
                          ? ((e.epoch - 1) + double(e.steps) / event.steps_per_epoch) / event.epochs
                          : 0;
    out_ << "\r\033[K  epoch " << e.epoch << "/" << event.epochs << "  step " << e.steps << "/"
         << event.steps_per_epoch << "  " << format_fixed(e.samples_per_s, 0) << " samples/s  mem "
         << describe_bytes(rss_bytes) << " / " << describe_bytes(budget_bytes) << "  sweep ETA "
         << eta(fraction) << busy_text(e.other_cpu_cores) << std::flush;
    status_shown_ = true;
  } else if (event.kind == WorkerEvent::Kind::kEpoch) {
    clear_status();
    out_ << tag(run_id) << " epoch " << e.epoch << ": " << format_fixed(e.seconds, 2) << " s, "
         << format_fixed(e.samples_per_s, 0) << " samples/s, step p50 "
         << format_fixed(e.step_median_s * 1000, 2) << " ms, train loss "
         << format_fixed(e.train_loss, 4) << ", val acc " << format_fixed(e.val_accuracy, 3)
         << busy_text(e.other_cpu_cores) << "\n"
         << std::flush;
  }
}

void ProgressPrinter::run_finished(std::int64_t run_id, const std::string& outcome, double wall_s) {
  clear_status();
  ++finished_;
  finished_wall_s_ += wall_s;
  out_ << tag(run_id) << " " << outcome << "\n" << std::flush;
}

void ProgressPrinter::note(const std::string& line) {
  clear_status();
  out_ << line << "\n" << std::flush;
}

std::string finish_line(const GuardResult& result, const std::vector<storage::EpochRecord>& epochs,
                        const std::string& busy) {
  if (result.status != RunStatus::kOk) {
    return std::string(status_word(result.status)) + ": " + result.error;
  }
  const storage::EpochRecord last = epochs.empty() ? storage::EpochRecord{} : epochs.back();
  return "ok  " + format_fixed(result.wall_s, 2) + " s, " + format_fixed(last.samples_per_s, 0) +
         " samples/s, val acc " + format_fixed(last.val_accuracy, 3) + ", peak " +
         describe_bytes(result.peak_rss_bytes) +
         describe_memory_trims(result.memory_trims, result.held_peak_bytes) +
         (busy.empty() ? "" : "; " + busy);
}

}  // namespace orch
