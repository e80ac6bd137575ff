// Internal to the probe (probe.cc, probe_report.cc): what its trials say, read from the
// records it keeps of them. A trial's peak fits the memory model; a rehearsal (one whole
// epoch at the answer) tells how much more a whole run holds.
#pragma once

#include <cstdint>
#include <vector>

#include "host/probe/memory_model.h"
#include "storage/store.h"

namespace orch {

// A trial's peak, not a rehearsal's: the memory model is fitted to one kind of measurement.
bool fitting_trial(const storage::ProbeTrial& trial);

// The peaks the memory model is fitted to.
std::vector<MemoryPoint> fitting_points(const std::vector<storage::ProbeTrial>& trials);

// The fitting trial at the largest batch size (the nearest the answer: it tells how much a
// peak still grows with more steps there); null when none fitted.
const storage::ProbeTrial* largest_fitting_trial(const std::vector<storage::ProbeTrial>& trials);

// The last epoch rehearsed at `batch_size` among `trials`; null when none was.
const storage::ProbeTrial* rehearsal_at(const std::vector<storage::ProbeTrial>& trials,
                                        std::int64_t batch_size);

// The stored answer for a batch size chosen from `model`, with what it rests on.
storage::ProbeAnswer answer_for(const MemoryModel& model, std::int64_t batch_size,
                                double growth_bytes, std::int64_t budget_bytes);

// The model with every prediction scaled by `factor`: what whole epochs hold when one
// held `factor` times what the trials predicted.
MemoryModel scaled_memory_model(MemoryModel model, double factor);

}  // namespace orch
