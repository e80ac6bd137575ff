// The [train] section of one run, typed: what the scheduler, the probe and the trainer
// read. Built once when a run is resolved (RunSpec::train) from the checked values, and
// carried by the RunSpec into the worker. No torch here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "orch/params.h"
#include "orch/types.h"

namespace orch {

enum class LrScheduleKind { kConstant, kStep, kCosine, kOneCycle };

// "constant" -> kConstant; throws std::invalid_argument for an unknown name.
LrScheduleKind lr_schedule_kind(const std::string& name);

struct LrSchedule {
  LrScheduleKind kind = LrScheduleKind::kConstant;
  double gamma = 0.1;  // step: factor applied every `step_epochs` epochs
  std::int64_t step_epochs = 1;
  double min_lr = 0;              // cosine: the lr reached after the last step
  double pct_start = 0.3;         // onecycle: share of the steps spent rising
  double div_factor = 25;         // onecycle: the first lr is lr / div_factor
  double final_div_factor = 1e4;  // onecycle: the last lr is lr / div_factor / this
};

// Which runs keep their trained weights (train.save).
enum class SaveWeights {
  kNone,
  kBest,  // every run saves; once the sweep ends, only the winning configuration's are kept
  kAll,
};

// What the scheduler does after a run runs out of memory (train.on_oom).
enum class OnOom {
  kSkip,   // record it, go on
  kHalve,  // retry with half the batch and twice the accumulation
  kStop,   // end the sweep
};

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

  // What the scheduler reads. The budget as written ("6GiB", "80%"; empty = the default
  // share of the machine): turning it into bytes needs the machine's memory.
  std::string memory_limit;
  double timeout_s = 0;  // 0 = no limit
  OnOom on_oom = OnOom::kSkip;
  SaveWeights save = SaveWeights::kNone;

  // Checkpoints (host/training/checkpoint.h): saved after an epoch when
  // checkpoint_minutes >= 0, after every epoch at 0, else after the first epoch that ends
  // at least that many minutes after the last checkpoint (or the start).
  double checkpoint_minutes = kNoCheckpoints;
  bool keep_checkpoints = false;  // a run that finishes ok keeps its last checkpoint
  // The disk budget as written ("2GiB", "50%" of the free space); empty = the free space
  // on the checkpoints' filesystem less kCheckpointDiskMargin.
  std::string checkpoint_disk;
  static constexpr double kNoCheckpoints = -1;
};

// train.checkpoint as minutes: "none" -> kNoCheckpoints, "epoch" -> 0, "30min" -> 30.
// Nothing for any other text.
std::optional<double> checkpoint_minutes(const std::string& text);

// The options of a run from its checked [train] values and its seed. The values are those
// the sweep resolved (every key present, of its declared type); a missing or mistyped key
// is a bug and throws ParamError.
TrainOptions read_train_options(const Params& train, std::int64_t seed);

}  // namespace orch
