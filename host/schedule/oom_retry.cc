#include "host/schedule/oom_retry.h"

#include <algorithm>
#include <cstdint>

namespace orch {

RunSpec halved(const RunSpec& run) {
  RunSpec smaller = run;
  smaller.set_train("batch_size", std::max<std::int64_t>(1, run.train.batch_size / 2));
  smaller.set_train("accumulation_steps", run.train.accumulation_steps * 2);
  return smaller;
}

std::string halving_note(const RunSpec& run) {
  return "halved to train.batch_size=" + std::to_string(run.train.batch_size) + " x " +
         std::to_string(run.train.accumulation_steps) + " accumulation steps";
}

}  // namespace orch
