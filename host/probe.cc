#include "host/probe.h"

#include "host/guard.h"
#include "host/memory_budget.h"
#include "host/run_key.h"
#include "host/sweep.h"
#include "host/table.h"
#include "host/training_library.h"
#include "host/user_error.h"

namespace orch {
namespace {

RunSpec with_batch(const RunSpec& run, std::int64_t batch_size) {
  RunSpec trial = run;
  auto& train = trial.sections["train"].values;
  train["batch_size"] = batch_size;
  train["accumulation_steps"] = std::int64_t{1};
  train["epochs"] = std::int64_t{1};
  train["warmup_steps"] = std::int64_t{0};
  return trial;
}

}  // namespace

ProbeResult probe_batch_size(const RunSpec& run, const PluginCatalog& catalog,
                             storage::Store& store, std::int64_t budget_bytes,
                             const ProbeOptions& options, std::ostream& progress) {
  const std::string key = memory_key(run);
  ProbeResult result;
  if (!options.again) {
    if (auto answer = store.probe_answer(key, budget_bytes)) {
      result.max_batch_size = answer->max_batch_size;
      result.reused = true;
      result.trials = store.probe_trials(key, budget_bytes);
      return result;
    }
  }

  std::int64_t train_size = 0;
  int trial_number = 0;
  auto trial = [&](std::int64_t batch_size) {
    progress << "  trial batch_size=" << batch_size << " ..." << std::flush;
    GuardLimits limits{budget_bytes, options.timeout_s,
                       options.cgroup_prefix + "-probe-" + std::to_string(++trial_number)};
    RunSpec spec = with_batch(run, batch_size);
    WorkerBody body = load_worker_body();  // loaded in the host, before the fork
    GuardResult outcome = run_guarded(
        [&](int fd) { return body(spec, catalog, fd, options.steps); },
        [&](const WorkerEvent& event) {
          if (event.kind == WorkerEvent::Kind::kStarted) train_size = event.train_size;
        },
        limits);
    storage::ProbeTrial record{key,           budget_bytes,          batch_size,
                               outcome.status, outcome.peak_rss_bytes, outcome.stop_layer,
                               outcome.error};
    store.record_probe_trial(record);
    result.trials.push_back(record);
    progress << " " << outcome.status << ", peak " << describe_bytes(outcome.peak_rss_bytes)
             << "\n";
    if (outcome.status == "interrupted") throw UserError("probe interrupted");
    if (outcome.status != "ok" && outcome.status != "oom") {
      throw UserError("probe trial at batch_size=" + std::to_string(batch_size) + " " +
                      outcome.status + " for a reason other than memory: " + outcome.error);
    }
    return outcome.status == "ok";
  };

  // Doubling: find a size that does not fit, or the whole training split fitting.
  std::int64_t fits = 0, fails = 0;
  for (std::int64_t size = std::max<std::int64_t>(1, options.start);;) {
    if (!trial(size)) {
      fails = size;
      break;
    }
    fits = size;
    if (train_size > 0 && size >= train_size) {
      result.fits_whole_dataset = true;
      break;
    }
    size = train_size > 0 ? std::min(size * 2, train_size) : size * 2;
  }
  // Binary search between the last fit and the first failure.
  if (fails > 0 && fits > 0) {
    while (fails - fits > 1) {
      std::int64_t middle = fits + (fails - fits) / 2;
      (trial(middle) ? fits : fails) = middle;
    }
  }
  result.max_batch_size = fits;
  if (fits > 0) store.record_probe_answer(key, budget_bytes, {fits});
  return result;
}

std::string render_probe(const ProbeResult& result, std::int64_t budget_bytes) {
  TextTable table({"batch size", "result", "peak RSS", "stopped by"});
  for (const auto& trial : result.trials) {
    table.add_row({std::to_string(trial.batch_size), trial.status == "ok" ? "fits" : trial.status,
                   describe_bytes(trial.peak_rss_bytes), trial.stop_layer.empty() ? "-" : trial.stop_layer});
  }
  std::string out = table.render();
  if (result.max_batch_size == 0) {
    out += "not even the smallest batch size tried fits in " + describe_bytes(budget_bytes) + "\n";
  } else {
    out += "largest batch size that fits in " + describe_bytes(budget_bytes) + ": " +
           std::to_string(result.max_batch_size) +
           (result.fits_whole_dataset ? " (the whole training split)" : "") +
           (result.reused ? " (from an earlier probe; --again to probe anew)" : "") + "\n";
  }
  return out;
}

}  // namespace orch
