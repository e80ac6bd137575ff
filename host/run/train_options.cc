#include "host/run/train_options.h"

#include <cstdlib>
#include <stdexcept>

namespace orch {
namespace {

OnOom on_oom_named(const std::string& name) {
  if (name == "halve") return OnOom::kHalve;
  if (name == "stop") return OnOom::kStop;
  if (name == "skip") return OnOom::kSkip;
  throw ParamError("unknown train.on_oom '" + name + "'");
}

}  // namespace

LrScheduleKind lr_schedule_kind(const std::string& name) {
  if (name == "constant") return LrScheduleKind::kConstant;
  if (name == "step") return LrScheduleKind::kStep;
  if (name == "cosine") return LrScheduleKind::kCosine;
  if (name == "onecycle") return LrScheduleKind::kOneCycle;
  throw std::invalid_argument("unknown lr_schedule '" + name +
                              "'; known: constant, step, cosine, onecycle");
}

std::optional<double> checkpoint_minutes(const std::string& text) {
  if (text == "none") return TrainOptions::kNoCheckpoints;
  if (text == "epoch") return 0.0;
  const std::string suffix = "min";
  if (text.size() <= suffix.size() || text.compare(text.size() - 3, 3, suffix) != 0) return {};
  const std::string number = text.substr(0, text.size() - suffix.size());
  char* end = nullptr;
  const double minutes = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !(minutes > 0) || minutes > 1e6) return {};
  return minutes;
}

TrainOptions read_train_options(const Params& p, std::int64_t seed) {
  TrainOptions o;
  o.epochs = p.Int("epochs");
  o.batch_size = p.Int("batch_size");
  o.optimizer = p.Str("optimizer");
  o.lr = p.Real("lr");
  o.weight_decay = p.Real("weight_decay");
  o.momentum = p.Real("momentum");
  o.beta1 = p.Real("beta1");
  o.beta2 = p.Real("beta2");
  o.schedule.kind = lr_schedule_kind(p.Str("lr_schedule"));
  o.schedule.gamma = p.Real("lr_gamma");
  o.schedule.step_epochs = p.Int("lr_step_epochs");
  o.schedule.min_lr = p.Real("lr_min");
  o.schedule.pct_start = p.Real("lr_pct_start");
  o.schedule.div_factor = p.Real("lr_div_factor");
  o.schedule.final_div_factor = p.Real("lr_final_div_factor");
  o.grad_clip = p.Real("grad_clip");
  o.precision = p.Str("precision") == "bf16" ? Precision::kBf16 : Precision::kFp32;
  o.inference = p.Str("task") == "inference";
  o.warmup_steps = p.Int("warmup_steps");
  o.accumulation_steps = p.Int("accumulation_steps");
  o.benchmark = p.Str("mode") == "benchmark";
  o.min_steps = p.Int("min_steps");
  o.bench_max_steps = p.Int("max_steps");
  o.target_rel_ci = p.Real("target_rel_ci");
  o.seed = seed;
  o.memory_limit = p.Str("memory_limit");
  o.timeout_s = p.Real("timeout");
  o.on_oom = on_oom_named(p.Str("on_oom"));
  const std::string& save = p.Str("save");
  o.save = save == "all"    ? SaveWeights::kAll
           : save == "best" ? SaveWeights::kBest
                            : SaveWeights::kNone;
  // check_train_keys names a malformed value with its file and line.
  o.checkpoint_minutes = checkpoint_minutes(p.Str("checkpoint")).value_or(o.kNoCheckpoints);
  o.keep_checkpoints = p.Bool("keep_checkpoints");
  o.checkpoint_disk = p.Str("checkpoint_disk");
  return o;
}

}  // namespace orch
