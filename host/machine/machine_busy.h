// When a run's timings cannot be trusted as the machine's own: other processes took a
// noticeable share of the CPU while it ran. The sentence goes into runs.busy, the live
// progress and every table, so that nobody compares a slowed run with a quiet one unaware.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/store.h"

namespace orch {

// Others using a quarter of a core on average: on a quiet machine they use under 0.05
// (measured), and a quarter core shared with a one-thread run already stretches its epoch
// time by several percent, more than the differences rankings are asked to tell apart.
// Step dispersion alone does not raise the flag: a run makes slow steps on its own too
// (a slow batch, the allocator growing), so it proves nothing about other processes; the
// sentence quotes it as the effect.
inline constexpr double kBusyOtherCores = 0.25;

// Whether others used at least kBusyOtherCores; false when not measured (NaN).
bool machine_was_busy(double other_cpu_cores);

// "machine busy: other processes used 0.7 cores during run 3 (epochs 1-2); step p95 was
// 4.1x the median", or empty when the run and each of its epochs were quiet. Quotes the
// busy epochs' mean when only some were busy, the whole run's otherwise.
std::string describe_busy(std::int64_t run_id, double run_other_cpu_cores,
                          const std::vector<storage::EpochRecord>& epochs);

// "1", "1-2", "1, 3-4": epoch numbers, ascending, as ranges.
std::string epoch_ranges(const std::vector<int>& epochs);

// The runs a busy machine touched, and those whose timing spans two attempts (resumed
// from a checkpoint), one sentence a line (each names its run); empty when none was.
// Printed under the run tables.
std::string busy_notes(const std::vector<storage::RunSummary>& runs);

// The sentences of the busy and resumed runs among `runs`, each on a line indented by two
// spaces: what `orch best` says under a configuration whose timing they touched.
std::string busy_lines(const std::vector<const storage::RunSummary*>& runs);

// A table cell: others' cores ("0.02"), marked "0.70 busy" when flagged, "-" when not
// measured.
std::string other_cores_cell(const storage::RunSummary& run);

}  // namespace orch
