#include "host/report.h"

#include <algorithm>

#include "host/table.h"

namespace orch {
namespace {

std::vector<const storage::RunSummary*> ok_runs_by_epoch_time(
    const std::vector<storage::RunSummary>& runs) {
  std::vector<const storage::RunSummary*> ok;
  for (const auto& run : runs) {
    if (run.status == "ok" && run.epoch_s > 0 && run.samples_per_s > 0) ok.push_back(&run);
  }
  std::stable_sort(ok.begin(), ok.end(),
                   [](const auto* a, const auto* b) { return a->epoch_s < b->epoch_s; });
  return ok;
}

}  // namespace

std::string render_run_table(const std::vector<storage::RunSummary>& runs) {
  TextTable table({"run", "configuration", "repeat", "status", "epochs", "epoch s",
                   "samples/s", "train loss", "val acc", "peak RSS", "wall s", "note"});
  for (const auto& run : runs) {
    bool ok = run.status == "ok";
    std::string note = run.error;
    if (note.size() > 60) note = note.substr(0, 57) + "...";
    table.add_row({std::to_string(run.run_id), run.swept, std::to_string(run.repeat),
                   run.status, std::to_string(run.epochs),
                   ok ? format_fixed(run.epoch_s, 3) : "-",
                   ok ? format_fixed(run.samples_per_s, 0) : "-",
                   ok ? format_fixed(run.train_loss, 4) : "-",
                   ok ? format_fixed(run.val_accuracy, 3) : "-",
                   format_bytes(run.peak_rss_bytes), format_fixed(run.wall_s, 2), note});
  }
  return table.render();
}

std::string render_best(const std::vector<storage::RunSummary>& runs) {
  auto ok = ok_runs_by_epoch_time(runs);
  if (ok.empty()) return "best: no run finished ok\n";
  const auto& best = *ok.front();
  std::string out = "best by epoch time: " + best.swept + "  (" +
                    format_fixed(best.epoch_s, 3) + " s/epoch, " +
                    format_fixed(best.samples_per_s, 0) + " samples/s, run " +
                    std::to_string(best.run_id) + ", key " + best.run_key + ")\n";
  if (ok.size() > 1) {
    const auto& second = *ok[1];
    out += "runner-up:          " + second.swept + "  (" + format_fixed(second.epoch_s, 3) +
           " s/epoch, " + format_fixed(100.0 * (second.epoch_s / best.epoch_s - 1), 1) +
           "% slower)\n";
  }
  return out;
}

}  // namespace orch
