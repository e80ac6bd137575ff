#include "host/probe/probe.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>

#include "host/base/memory_budget.h"
#include "host/base/table.h"
#include "host/base/user_error.h"
#include "host/guard/guard.h"
#include "host/probe/probe_trials.h"
#include "host/run/run_key.h"
#include "host/training/training_library.h"

namespace orch {
namespace {

// Refinement trials after the doubling: the model usually lands on the answer in one or
// two; a run whose memory does not follow a line gets no more than this.
constexpr int kMaxRefinements = 5;
// Epochs rehearsed at most: the first usually confirms; one that does not shows how much
// a whole epoch holds over the trials, and the next aims below it.
constexpr int kMaxRehearsals = 4;
// How a rehearsal that finished in the room above the budget is recorded.
constexpr const char* kOverTheBudget = "over the budget";

RunSpec with_batch(const RunSpec& run, std::int64_t batch_size) {
  RunSpec trial = run;
  trial.set_train("batch_size", batch_size);
  // The worker's log names the batch size it trains at.
  bool swept = false;
  for (auto& [key, value] : trial.swept) {
    if (key == "train.batch_size") value = batch_size, swept = true;
  }
  if (!swept) trial.swept.insert(trial.swept.begin(), {"train.batch_size", batch_size});
  return trial;
}

// Optimizer steps of the whole run at `batch_size`: what the growth of a trial's peak is
// extrapolated to.
std::int64_t run_steps(const RunSpec& run, std::int64_t batch_size, std::int64_t train_size) {
  const TrainOptions& train = run.train;
  if (train.benchmark) return train.warmup_steps + train.bench_max_steps;
  const std::int64_t accumulation = std::max<std::int64_t>(1, run.train.accumulation_steps);
  const std::int64_t batches = (train_size + batch_size - 1) / batch_size;
  return run.train.epochs * ((batches + accumulation - 1) / accumulation);
}

RunSpec one_epoch_of(const RunSpec& run, std::int64_t batch_size) {
  RunSpec epoch = with_batch(run, batch_size);
  epoch.set_train("epochs", std::int64_t{1});
  return epoch;
}

// One probe: the trials run so far and what they say.
class Prober {
 public:
  Prober(const RunSpec& run, const PluginCatalog& catalog, storage::Store& store,
         std::int64_t budget, const ProbeOptions& options, std::ostream& progress)
      : run_(run),
        catalog_(catalog),
        store_(store),
        budget_(budget),
        options_(options),
        progress_(progress),
        key_(memory_key(run)) {}

  ProbeResult run() {
    ProbeResult result;
    result.budget_bytes = budget_;
    double_until_the_model_sees_the_answer(result);
    if (first_oom_ != kNone || !result.fits_whole_dataset) refine();
    result.trials = trials_;
    result.model = fit_memory_model(fitting_points(trials_));
    std::int64_t answer = final_answer(result.model);
    result.answer = answer_for(result.model, answer, growth(answer), budget_);
    if (options_.rehearse && answer > 0) {
      result.answer = rehearse(result.model, answer);
      answer = result.answer.max_batch_size;
      result.trials = trials_;
    }
    if (result.fits_whole_dataset && answer < train_size_) result.fits_whole_dataset = false;
    if (answer > 0) store_.record_probe_answer(key_, budget_, result.answer);
    return result;
  }

 private:
  static constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();

  void double_until_the_model_sees_the_answer(ProbeResult& result) {
    for (std::int64_t size = std::max<std::int64_t>(1, options_.start);;) {
      if (!trial(size)) return;
      if (train_size_ > 0 && size >= train_size_) {
        result.fits_whole_dataset = true;
        return;
      }
      const std::int64_t next = train_size_ > 0 ? std::min(size * 2, train_size_) : size * 2;
      // Three fitting peaks give a line and its scatter: when the answer it sees lies
      // below the next doubling, aim at it instead of running out of memory there.
      const MemoryModel model = fit_memory_model(fitting_points(trials_));
      if (model.points >= 3 && model.usable() && candidate(model) < next) return;
      size = next;
    }
  }

  // Trials at the answer the model sees, until it sees one it has measured.
  void refine() {
    for (int round = 0; round < kMaxRefinements; ++round) {
      const MemoryModel model = fit_memory_model(fitting_points(trials_));
      if (!model.usable()) return;
      const std::int64_t next = candidate(model);
      if (next < 1 || tried_.count(next)) return;
      trial(next);
    }
  }

  // The largest batch size the model allows, below any size that ran out of memory.
  std::int64_t candidate(const MemoryModel& model) const {
    std::int64_t limit =
        first_oom_ == kNone ? std::numeric_limits<std::int32_t>::max() : first_oom_ - 1;
    if (train_size_ > 0) limit = std::min(limit, train_size_);
    // The growth allowance of the size it would pick depends on that size's run length;
    // the largest fitting trial's growth per doubling is the best evidence there is.
    std::int64_t batch = largest_fitting_batch(model, budget_, growth(limit), limit);
    if (batch > 0) batch = largest_fitting_batch(model, budget_, growth(batch), limit);
    return batch;
  }

  // The answer: the model's, but never a size that has not fitted in a trial itself.
  std::int64_t final_answer(const MemoryModel& model) const {
    const std::int64_t wanted = model.usable() ? candidate(model) : largest_fitted();
    std::int64_t answer = 0;
    for (const auto& [size, fitted] : tried_) {
      if (fitted && size <= wanted) answer = std::max(answer, size);
    }
    return answer;
  }

  // The trials' answer, rehearsed: one epoch of the real run at it, its whole validation
  // pass included. Trials miss what only a whole epoch holds (the allocator's fragments
  // after a full pass over the data, batches of other shapes, memory that grows late); the
  // rehearsal measures it. It confirms the answer when its peak plus the margin for the
  // scatter of peaks and the growth of further epochs stays within the budget. Otherwise
  // the model is scaled by what the epoch held over its prediction, and the lower answer
  // that gives is rehearsed in turn.
  storage::ProbeAnswer rehearse(const MemoryModel& model, std::int64_t answer) {
    double factor = 1.0;    // the most a whole epoch held over the model's prediction
    std::string rehearsed;  // the sizes whose epoch did not fit with the margin
    for (int round = 0; round < kMaxRehearsals; ++round) {
      const storage::ProbeTrial seen = rehearsal(answer);
      const double predicted = model.peak_at(answer);
      const double peak = static_cast<double>(epoch_need(seen));
      const bool fitted = seen.status == RunStatus::kOk;
      // Finished, under the budget or above it in the room: its peak is the epoch's own.
      const bool finished = fitted || seen.stop_layer == kOverTheBudget;
      const double margin = margin_at(model, answer, growth(answer), budget_);
      if (fitted && peak + margin <= static_cast<double>(budget_)) {
        storage::ProbeAnswer confirmed = answer_for(model, answer, growth(answer), budget_);
        confirmed.rehearsed_peak_bytes = seen.peak_rss_bytes;
        confirmed.epoch_excess_bytes = static_cast<std::int64_t>(std::max(0.0, peak - predicted));
        confirmed.margin_bytes += confirmed.epoch_excess_bytes;
        return confirmed;
      }
      // Stopped even with room above the budget, the epoch showed only that it needed
      // more than that room: step down a quarter besides.
      const double needed = finished ? peak : std::max(peak, static_cast<double>(room()));
      if (predicted > 0) factor = std::max(factor, needed / predicted);
      rehearsed += (rehearsed.empty() ? "" : ", ") + std::to_string(answer);
      const std::int64_t below =
          finished ? answer - 1 : answer - std::max<std::int64_t>(1, answer / 4);
      answer = model.usable() ? largest_fitting_batch(scaled_memory_model(model, factor), budget_,
                                                      growth(below), below)
                              : below;
      if (answer < 1) return answer_for(model, 0, 0, budget_);
    }
    // Rehearsals enough: the scaled model's answer, from what the epochs held.
    storage::ProbeAnswer lowered =
        answer_for(scaled_memory_model(model, factor), answer, growth(answer), budget_);
    lowered.note = "not rehearsed itself: one epoch at batch size " + rehearsed +
                   " did not fit with the margin; this answer is the model's scaled by what " +
                   "those epochs held over it";
    return lowered;
  }

  // What a rehearsed epoch needs of the budget. An epoch that reached 90% of the budget
  // handed freed memory back from there on. When what it held right after stayed below
  // that mark, its peak is where trimming started, not what it needed: it needs what it
  // held plus what the heap grew by past the mark before a trim (the peak's overshoot).
  // When what it held reached the mark, the peak is its own.
  std::int64_t epoch_need(const storage::ProbeTrial& seen) const {
    const std::int64_t mark = returns_free_memory_above(budget_);
    if (seen.memory_trims == 0 || seen.held_peak_bytes <= 0 || seen.held_peak_bytes >= mark) {
      return seen.peak_rss_bytes;
    }
    return seen.held_peak_bytes + std::max<std::int64_t>(0, seen.peak_rss_bytes - mark);
  }

  // The limit a rehearsal runs under: room above the budget when the machine has it, so
  // that an epoch that outgrows the budget shows by how much (out of memory at the budget
  // it would show only that it did), and the next size can aim right. A rehearsal that
  // peaks over the budget counts as out of memory all the same.
  std::int64_t room() const {
    const std::int64_t roomy = budget_ + budget_ / 2;
    const std::int64_t available = machine_memory_at_start().available_bytes;
    return available - available / 5 >= roomy ? roomy : budget_;
  }

  // One epoch of the run at `batch_size` in a guarded worker, recorded beside the trials.
  storage::ProbeTrial rehearsal(std::int64_t batch_size) {
    progress_ << "  rehearsal batch_size=" << batch_size << ": one epoch, validation included ..."
              << std::flush;
    GuardLimits limits = limits_for(batch_size, "rehearsal");
    limits.budget_bytes = room();
    limits.run_budget_bytes = budget_;
    const RunSpec spec = one_epoch_of(run_, batch_size);
    WorkerBody body = load_worker_body();
    const auto start = std::chrono::steady_clock::now();
    GuardResult outcome = run_guarded([&](int fd) { return body(spec, catalog_, fd, 0); },
                                      [](const WorkerEvent&) {}, limits);
    storage::ProbeTrial record = record_of(batch_size, outcome, WorkerEvent{});
    record.kind = "rehearsal";
    record.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (outcome.status == RunStatus::kOk && outcome.peak_rss_bytes > budget_) {
      record.status = RunStatus::kOom;
      record.stop_layer = kOverTheBudget;
    }
    store_.record_probe_trial(record);
    trials_.push_back(record);
    progress_ << " " << (record.status == RunStatus::kOk ? "fits" : "out of memory") << ", peak "
              << describe_bytes(outcome.peak_rss_bytes) << " in " << format_fixed(record.seconds, 0)
              << " s\n";
    fail_unless_memory(outcome, batch_size, limits);
    return record;
  }

  std::int64_t largest_fitted() const {
    std::int64_t largest = 0;
    for (const auto& [size, fitted] : tried_) {
      if (fitted && size < first_oom_) largest = std::max(largest, size);
    }
    return largest;
  }

  double growth(std::int64_t batch_size) const {
    const storage::ProbeTrial* nearest = largest_fitting_trial(trials_);
    if (nearest == nullptr || batch_size < 1 || train_size_ <= 0) return 0;
    return growth_over_run(nearest->growth_bytes, nearest->steps,
                           run_steps(run_, batch_size, train_size_));
  }

  GuardLimits limits_for(std::int64_t batch_size, const std::string& kind) {
    GuardLimits limits{budget_, options_.timeout_s,
                       options_.cgroup_prefix + "-probe-" + std::to_string(++trial_number_)};
    if (!options_.log_dir.empty()) {
      limits.log_path = options_.log_dir + "/probe-" + key_ + "-" + std::to_string(budget_) + "-b" +
                        std::to_string(batch_size) + (kind == "trial" ? "" : "-" + kind) + ".log";
    }
    return limits;
  }

  storage::ProbeTrial record_of(std::int64_t batch_size, const GuardResult& outcome,
                                const WorkerEvent& report) const {
    return {key_,
            budget_,
            batch_size,
            outcome.status,
            outcome.peak_rss_bytes,
            outcome.stop_layer,
            outcome.error,
            report.trial_steps,
            report.plateau_step,
            report.growth_bytes,
            std::max<std::int64_t>(1, run_.train.accumulation_steps),
            "trial",
            0,
            outcome.memory_trims,
            outcome.held_peak_bytes};
  }

  // A worker that stopped for a reason other than memory ends the probe: every trial
  // would fail the same way.
  static void fail_unless_memory(const GuardResult& outcome, std::int64_t batch_size,
                                 const GuardLimits& limits) {
    if (outcome.status == RunStatus::kInterrupted) throw UserError("probe interrupted");
    if (outcome.status != RunStatus::kOk && outcome.status != RunStatus::kOom) {
      throw UserError("probe trial at batch_size=" + std::to_string(batch_size) + " " +
                      status_word(outcome.status) +
                      " for a reason other than memory: " + outcome.error +
                      (limits.log_path.empty() ? "" : " (its log: " + limits.log_path + ")"));
    }
  }

  // Runs one trial; true when it fitted.
  bool trial(std::int64_t batch_size) {
    progress_ << "  trial batch_size=" << batch_size << " ..." << std::flush;
    GuardLimits limits = limits_for(batch_size, "trial");
    // Trimming throughout, the trial's peak is what its steps hold alive, not what the
    // allocator happened to keep: the same from try to try, and what a run near the
    // budget holds, since a run hands freed memory back from 90% of its budget on.
    limits.trim_above_bytes = 0;
    RunSpec spec = with_batch(run_, batch_size);
    WorkerBody body = load_worker_body();  // loaded in the host, before the fork
    WorkerEvent report;
    GuardResult outcome =
        run_guarded([&](int fd) { return body(spec, catalog_, fd, options_.max_steps); },
                    [&](const WorkerEvent& event) {
                      if (event.kind == WorkerEvent::Kind::kStarted) train_size_ = event.train_size;
                      if (event.kind == WorkerEvent::Kind::kTrial) report = event;
                    },
                    limits);
    storage::ProbeTrial record = record_of(batch_size, outcome, report);
    store_.record_probe_trial(record);
    trials_.push_back(record);
    progress_ << " " << status_word(outcome.status) << ", peak "
              << describe_bytes(outcome.peak_rss_bytes);
    if (outcome.status == RunStatus::kOk) {
      progress_ << " after " << report.trial_steps << " steps"
                << (report.plateau_step > 0 ? "" : " (still growing)");
    }
    progress_ << "\n";
    fail_unless_memory(outcome, batch_size, limits);
    const bool fitted = outcome.status == RunStatus::kOk;
    tried_[batch_size] = fitted;
    if (!fitted) first_oom_ = std::min(first_oom_, batch_size);
    return fitted;
  }

  const RunSpec& run_;
  const PluginCatalog& catalog_;
  storage::Store& store_;
  const std::int64_t budget_;
  const ProbeOptions& options_;
  std::ostream& progress_;
  const std::string key_;
  std::vector<storage::ProbeTrial> trials_;
  std::map<std::int64_t, bool> tried_;  // batch size -> fitted
  std::int64_t first_oom_ = kNone;      // the smallest batch size that ran out of memory
  std::int64_t train_size_ = 0;
  int trial_number_ = 0;
};

}  // namespace

ProbeResult probe_batch_size(const RunSpec& run, const PluginCatalog& catalog,
                             storage::Store& store, std::int64_t budget_bytes,
                             const ProbeOptions& options, std::ostream& progress) {
  const std::string key = memory_key(run);
  if (!options.again) {
    if (auto answer = store.probe_answer(key, budget_bytes)) {
      ProbeResult result;
      result.budget_bytes = budget_bytes;
      result.answer = *answer;
      result.reused = true;
      result.trials = store.probe_trials(key, budget_bytes);
      result.model = fit_memory_model(fitting_points(result.trials));
      return result;
    }
  }
  return Prober(run, catalog, store, budget_bytes, options, progress).run();
}

std::string correct_probe_answer(storage::Store& store, const std::string& memory_key,
                                 std::int64_t budget_bytes, std::int64_t batch_size,
                                 std::int64_t run_id) {
  auto stored = store.probe_answer(memory_key, budget_bytes);
  if (!stored || stored->max_batch_size < batch_size) return "";
  storage::ProbeAnswer corrected = *stored;
  const MemoryModel model =
      fit_memory_model(fitting_points(store.probe_trials(memory_key, budget_bytes)));
  std::int64_t lowered = batch_size - 1;
  if (model.usable()) {
    // The run needed at least the budget where the model predicted less: that shortfall
    // happens to whole runs of this key, so it joins the margin at every batch size.
    const double shortfall =
        std::max(0.0, static_cast<double>(budget_bytes) - model.peak_at(batch_size));
    const double growth = static_cast<double>(stored->growth_bytes) + shortfall;
    lowered = std::min(lowered, largest_fitting_batch(model, budget_bytes, growth, lowered));
    corrected = answer_for(model, lowered, growth, budget_bytes);
  } else {
    corrected.max_batch_size = lowered;
  }
  corrected.corrected_by_run_id = run_id;
  corrected.note = "lowered from " + std::to_string(stored->max_batch_size) + " to " +
                   std::to_string(lowered) + ": run " + std::to_string(run_id) +
                   " ran out of memory at batch size " + std::to_string(batch_size);
  store.record_probe_answer(memory_key, budget_bytes, corrected);
  return "the stored probe answer for this model, data and budget was " + corrected.note;
}

}  // namespace orch
