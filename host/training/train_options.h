// What the [train] section asks of the trainer, read from a run's resolved parameters,
// and the checks that span several [train] keys. No torch here.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "host/sweep/experiment.h"
#include "host/sweep/run_spec.h"
#include "host/training/lr_schedule.h"
#include "orch/types.h"

namespace orch {

struct TrainOptions {
  std::int64_t epochs = 1;
  std::int64_t batch_size = 32;
  std::string optimizer = "adam";  // sgd | adam | adamw
  double lr = 1e-3;
  // As written in the file; PyTorch's own AdamW default of 0.01 does not apply.
  double weight_decay = 0;
  double momentum = 0;  // sgd
  double beta1 = 0.9;   // adam, adamw
  double beta2 = 0.999;
  LrSchedule schedule;   // applied per optimizer step
  double grad_clip = 0;  // the largest total gradient norm; 0 = no clipping
  Precision precision = Precision::kFp32;
  // Inference: forward passes only, no gradients, untrained weights; times throughput.
  bool inference = false;
  std::int64_t warmup_steps = 3;
  std::int64_t seed = 0;
  // Gradients of this many batches are summed before each optimizer step, so that
  // batch_size x accumulation_steps samples make one update.
  std::int64_t accumulation_steps = 1;
  // Benchmark mode: after the warm-up, measured steps until the 95% interval of the
  // median step time is within `target_rel_ci` of it (at least `min_steps`, at most
  // `max_steps`), instead of full epochs.
  bool benchmark = false;
  std::int64_t min_steps = 20;
  std::int64_t bench_max_steps = 1000;
  double target_rel_ci = 0.02;
};

// The options of one run from its [train] section and seed.
TrainOptions train_options(const RunSpec& run);

// Throws UserError when a [train] key is set (not left at its default) but no run of
// the sweep uses it: momentum without sgd, betas without adam/adamw, a schedule's keys
// without that schedule; or when cosine's lr_min is not below lr. A key that some runs
// use (train.optimizer swept over sgd and adam, say) is accepted.
void check_train_keys(const Experiment& experiment, const std::vector<RunSpec>& runs);

// The [train] keys check_train_keys reads: runs that agree on these get the same verdict.
const std::set<std::string>& keys_read_by_check_train_keys();

}  // namespace orch
