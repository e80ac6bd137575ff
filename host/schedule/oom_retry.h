// train.on_oom = "halve": how a point that ran out of memory is tried again.
#pragma once

#include <string>

#include "host/run/run_spec.h"

namespace orch {

// The run with half the batch size (at least 1) and twice the accumulation steps, so that
// an optimizer step still sees as many samples. Its keys stay the point's.
RunSpec halved(const RunSpec& run);

// "halved to train.batch_size=4 x 2 accumulation steps": the note its run row carries.
std::string halving_note(const RunSpec& run);

}  // namespace orch
