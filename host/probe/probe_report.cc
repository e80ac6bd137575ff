// What `orch probe` prints: the trials, the answer, and what the answer rests on.
#include <algorithm>

#include "host/base/memory_budget.h"
#include "host/base/table.h"
#include "host/guard/guard.h"
#include "host/probe/probe.h"
#include "host/probe/probe_trials.h"

namespace orch {
namespace {

// The largest batch size whose predicted peak plus the answer's margin stays under the
// mark where a worker starts handing freed memory back; 0 when the model cannot say.
std::int64_t below_the_trimming_mark(const ProbeResult& result) {
  const MemoryModel& model = result.model;
  if (!model.usable()) return 0;
  const double mark = static_cast<double>(returns_free_memory_above(result.budget_bytes));
  std::int64_t fast = 0;
  for (std::int64_t b = 1; b <= result.answer.max_batch_size; ++b) {
    if (model.peak_at(b) + static_cast<double>(result.answer.margin_bytes) > mark) break;
    fast = b;
  }
  return fast;
}

std::string trials_table(const std::vector<storage::ProbeTrial>& trials) {
  TextTable table(
      {"batch size", "result", "peak RSS", "steps", "peak stopped growing", "stopped by"});
  for (const auto& trial : trials) {
    const bool fitted = trial.status == RunStatus::kOk;
    const std::string stopped_by = trial.stop_layer.empty() ? "-" : trial.stop_layer;
    if (trial.kind == "rehearsal") {
      table.add_row({std::to_string(trial.batch_size),
                     std::string(fitted ? "one epoch fits"
                                        : std::string("one epoch: ") + status_word(trial.status)),
                     describe_bytes(trial.peak_rss_bytes), "epoch", "-", stopped_by});
      continue;
    }
    table.add_row({std::to_string(trial.batch_size), fitted ? "fits" : status_word(trial.status),
                   describe_bytes(trial.peak_rss_bytes), fitted ? std::to_string(trial.steps) : "-",
                   !fitted                  ? "-"
                   : trial.plateau_step > 0 ? "at step " + std::to_string(trial.plateau_step)
                                            : "no",
                   stopped_by});
  }
  return table.render();
}

// The whole epoch rehearsed at the answer: its peak, and whether it had to hand memory back.
std::string rehearsal_lines(const ProbeResult& result) {
  const storage::ProbeAnswer& answer = result.answer;
  std::string out =
      "  rehearsed: one epoch at " + std::to_string(answer.max_batch_size) +
      ", validation included, peaked at " + describe_bytes(answer.rehearsed_peak_bytes) + ", " +
      describe_headroom(static_cast<double>(answer.rehearsed_peak_bytes), result.budget_bytes) +
      "\n";
  const storage::ProbeTrial* epoch = rehearsal_at(result.trials, answer.max_batch_size);
  if (epoch == nullptr || epoch->memory_trims == 0) return out;
  out +=
      "  the epoch reached 90% of the budget, where a worker starts handing freed memory "
      "back to the kernel" +
      describe_memory_trims(epoch->memory_trims, epoch->held_peak_bytes) + "; it took " +
      format_fixed(epoch->seconds, 0) + " s (runs this close to the budget may be slower for it)\n";
  const std::int64_t fast = below_the_trimming_mark(result);
  if (fast > 0 && fast < answer.max_batch_size) {
    out += "  batch size " + std::to_string(fast) +
           " is the largest predicted to stay under 90% of the budget, where runs never "
           "hand memory back\n";
  }
  return out;
}

// The prediction, the margin kept above it and what the margin is made of, the model.
std::string prediction_lines(const storage::ProbeAnswer& answer, std::int64_t budget_bytes) {
  const bool at_the_floor = answer.margin_bytes - answer.epoch_excess_bytes <=
                            static_cast<std::int64_t>(kMinMarginShare * budget_bytes);
  std::string margin = (at_the_floor ? "the least kept, " + format_fixed(kMinMarginShare * 100, 0) +
                                           "% of the budget, for a busy machine; measured: "
                                     : "") +
                       format_fixed(kNoiseSigmas, 0) + " x " + describe_bytes(answer.noise_bytes) +
                       " scatter of single peaks";
  if (answer.growth_bytes > 0) {
    margin += " + " + describe_bytes(answer.growth_bytes) + " a whole run may still grow";
  }
  if (answer.epoch_excess_bytes > 0) {
    margin +=
        " + " + describe_bytes(answer.epoch_excess_bytes) + " a whole epoch held over the trials";
  }
  const double peak =
      static_cast<double>(std::max(answer.predicted_peak_bytes, answer.rehearsed_peak_bytes));
  return "  predicted peak " + describe_bytes(answer.predicted_peak_bytes) + ", " +
         describe_headroom(peak, budget_bytes) + "; margin kept " +
         describe_bytes(answer.margin_bytes) + " (" + margin + ")\n" + "  memory model: fixed " +
         describe_bytes(answer.fixed_bytes) + " + " + describe_bytes(answer.per_sample_bytes) +
         " per sample\n";
}

}  // namespace

std::string describe_headroom(double predicted_peak_bytes, std::int64_t budget_bytes) {
  const double headroom = 1.0 - predicted_peak_bytes / static_cast<double>(budget_bytes);
  return "fits with " + format_fixed(std::max(0.0, headroom) * 100, 0) + "% headroom";
}

std::string render_probe(const ProbeResult& result) {
  std::string out = trials_table(result.trials);
  const storage::ProbeAnswer& answer = result.answer;
  const std::string budget = describe_bytes(result.budget_bytes);
  if (answer.max_batch_size == 0) {
    return out + "not even the smallest batch size tried fits in " + budget + "\n";
  }
  out += "largest batch size whose whole run fits in " + budget + ": " +
         std::to_string(answer.max_batch_size) +
         (result.fits_whole_dataset ? " (the whole training split)" : "") +
         (result.reused ? " (from an earlier probe; --again to probe anew)" : "") + "\n";
  if (answer.rehearsed_peak_bytes > 0) {
    out += rehearsal_lines(result);
  } else if (answer.per_sample_bytes > 0 && answer.note.empty()) {
    out +=
        "  not rehearsed (--no-rehearsal, or probed before rehearsals): no whole epoch ran "
        "at this size\n";
  }
  if (answer.per_sample_bytes > 0) out += prediction_lines(answer, result.budget_bytes);
  if (!answer.note.empty()) out += "  " + answer.note + "\n";
  return out;
}

}  // namespace orch
