#include "host/training/worker.h"

#include <torch/torch.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "host/guard/worker_events.h"
#include "host/run/train_options.h"
#include "host/training/trainer.h"
#include "orch/backend.h"
#include "orch/dataset.h"
#include "orch/model.h"

namespace orch {
namespace {

template <class T>
T* require(T* made, const char* kind, const std::string& name) {
  if (made == nullptr) {
    throw std::runtime_error(std::string(kind) + " plugin '" + name + "' made no object");
  }
  return made;
}

// Trains the run, or with max_steps > 0 runs its memory trial, sending what it measures.
void train_or_trial(EventWriter& events, Backend& backend, Dataset& dataset, Model& model,
                    const RunSpec& run, std::int64_t max_steps) {
  const TrainOptions& options = run.train;
  if (max_steps > 0) {
    TrialReport report = memory_trial(backend, dataset, model, options, max_steps);
    WorkerEvent trial{WorkerEvent::Kind::kTrial};
    trial.trial_steps = report.steps;
    trial.plateau_step = report.plateau_step;
    trial.growth_bytes = report.growth_bytes;
    trial.peak_rss_bytes = report.peak_bytes;
    events.send(trial);
    return;
  }
  auto on_epoch = [&](const storage::EpochRecord& e) {
    WorkerEvent epoch{WorkerEvent::Kind::kEpoch};
    epoch.epoch = e;
    events.send(epoch);
  };
  auto on_progress = [&](const TrainProgress& p) {
    WorkerEvent progress{WorkerEvent::Kind::kProgress};
    progress.epoch.epoch = static_cast<int>(p.epoch);
    progress.epochs = p.epochs;
    progress.epoch.steps = p.step;
    progress.steps_per_epoch = p.steps_per_epoch;
    progress.epoch.samples_per_s = p.samples_per_s;
    events.send(progress);
  };
  CheckpointPlan checkpoints{run.checkpoint_prefix, run.resume_from, {}, run.checkpoint_epochs};
  checkpoints.on_checkpoint = [&](std::int64_t epoch, const std::string& skipped_why) {
    WorkerEvent checkpoint{WorkerEvent::Kind::kCheckpoint};
    checkpoint.epoch.epoch = static_cast<int>(epoch);
    checkpoint.message = skipped_why;
    events.send(checkpoint);
    if (!skipped_why.empty()) {
      std::fprintf(stderr, "orch worker: no checkpoint after epoch %lld: %s\n",
                   static_cast<long long>(epoch), skipped_why.c_str());
    }
  };
  train(backend, dataset, model, options, on_epoch, on_progress, {}, checkpoints);
}

// Written under a temporary name and renamed, so a file at `path` is always whole.
void save_weights(Model& model, const std::string& path) {
  const std::string partial = path + ".partial";
  model.save(partial);
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    throw std::runtime_error("cannot move the saved weights to " + path + ": " +
                             std::strerror(errno));
  }
}

// The one catch of a run: `e` as an error event (out of memory or not, with the peak
// when the backend was made), and the exit code of a failed run.
int report_failure(EventWriter& events, Backend* backend, const std::exception& e) {
  WorkerEvent error{WorkerEvent::Kind::kError};
  // LibTorch's own errors carry a C++ backtrace in what(); people need the sentence.
  const auto* torch_error = dynamic_cast<const c10::Error*>(&e);
  error.message = torch_error ? torch_error->what_without_backtrace() : e.what();
  error.out_of_memory = backend && backend->is_out_of_memory(e);
  if (backend) error.peak_rss_bytes = backend->memory().host_peak_bytes;
  events.send(error);
  std::fprintf(stderr, "orch worker: run failed: %s\n", error.message.c_str());
  return 1;
}

int run_worker(const RunSpec& run, const PluginCatalog& catalog, int event_fd,
               std::int64_t max_steps) {
  EventWriter events(event_fd);
  std::unique_ptr<Backend> backend;
  try {
    const auto& backend_name = run.plugin("backend");
    backend = catalog.find(PluginKind::kBackend, backend_name)->make_backend(run.params("backend"));
    require(backend.get(), "backend", backend_name);

    const auto& dataset_name = run.plugin("dataset");
    auto dataset =
        catalog.find(PluginKind::kDataset, dataset_name)->make_dataset(run.params("dataset"));
    require(dataset.get(), "dataset", dataset_name);

    const TrainOptions& options = run.train;
    WorkerEvent started{WorkerEvent::Kind::kStarted};
    started.pid = static_cast<int>(::getpid());
    // The precision is the run's, not the backend's, but it belongs to how it computed.
    started.backend =
        backend->describe() + (options.precision == Precision::kBf16 ? ", bf16 autocast" : "");
    started.train_size = dataset->info().train_size;
    events.send(started);
    std::fprintf(stderr, "orch worker %d: %s; %s\n", started.pid, run.swept_text().c_str(),
                 started.backend.c_str());
    // LibTorch seeds its global generator at random in every process: without this, the
    // initial weights, and so every result, would differ between runs of the same seed.
    torch::manual_seed(static_cast<std::uint64_t>(options.seed));
    const auto& model_name = run.plugin("model");
    auto model = catalog.find(PluginKind::kModel, model_name)
                     ->make_model(run.params("model"), dataset->info());
    require(model.get(), "model", model_name);

    events.send(WorkerEvent{WorkerEvent::Kind::kReady});  // the start cost ends here
    train_or_trial(events, *backend, *dataset, *model, run, max_steps);
    if (max_steps == 0 && !run.weights_path.empty()) save_weights(*model, run.weights_path);

    WorkerEvent finished{WorkerEvent::Kind::kFinished};
    finished.peak_rss_bytes = backend->memory().host_peak_bytes;
    events.send(finished);
    std::fprintf(stderr, "orch worker %d: finished\n", static_cast<int>(::getpid()));
    return 0;
  } catch (const std::exception& e) {
    return report_failure(events, backend.get(), e);
  }
}

}  // namespace
}  // namespace orch

extern "C" int orch_worker_body(const orch::RunSpec& run, const orch::PluginCatalog& catalog,
                                int event_fd, std::int64_t max_steps) {
  return orch::run_worker(run, catalog, event_fd, max_steps);
}
