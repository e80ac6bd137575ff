// How a run's peak memory grows with its batch size, fitted from measured peaks (probe
// trials and finished runs of one memory key): a fixed part plus a part per sample, and
// how far single measurements scatter around that line. It predicts the peak of batch
// sizes nobody ran yet, and the largest batch size that leaves a margin under a budget.
// No torch here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace orch {

struct MemoryPoint {
  std::int64_t batch_size = 0;
  std::int64_t peak_bytes = 0;
};

struct MemoryModel {
  double fixed_bytes = 0;       // the line at batch size 0: LibTorch, data, weights, state
  double per_sample_bytes = 0;  // what one more sample in a batch adds
  // One standard deviation of a measured peak around the line (the residuals' scatter:
  // the same run does not peak at the same byte twice); 0 with fewer than 3 points.
  double noise_bytes = 0;
  int points = 0;
  double mean_batch = 0;    // of the points, for the prediction's widening
  double batch_spread = 0;  // sum of squared deviations of the batch sizes

  // At least two distinct batch sizes, and memory that grows with them.
  bool usable() const { return points >= 2 && batch_spread > 0 && per_sample_bytes > 0; }
  double peak_at(std::int64_t batch_size) const;
  // One standard deviation of a new measurement at `batch_size`: the scatter, widened the
  // further the batch size lies from the measured ones (least squares' prediction error).
  double prediction_noise_at(std::int64_t batch_size) const;
};

// Least squares over the points. Points at the same batch size all count.
MemoryModel fit_memory_model(const std::vector<MemoryPoint>& points);

// What is kept free under `budget_bytes` at a batch size: kNoiseSigmas standard deviations
// of a new measurement there, plus the growth a whole run may add over a trial, and never
// less than kMinMarginShare of the budget. That floor is what a run's peak may exceed its
// trials' by on a busy machine however steady the trials were: a worker near its budget
// lets its heap grow by 1% of the budget before it hands freed memory back, and by about
// as much again while its trimming thread waits for a core (a run at the heap_fragmenter
// fixture's answer peaked 3.9 MiB, 2% of its 200 MiB budget, above its trial while a build
// and the test suite ran beside it).
inline constexpr double kNoiseSigmas = 3.0;
inline constexpr double kMinMarginShare = 0.02;
double margin_at(const MemoryModel& model, std::int64_t batch_size, double growth_bytes,
                 std::int64_t budget_bytes);

// The largest batch size in [1, limit] whose predicted peak plus margin_at() stays within
// `budget_bytes`; 0 when not even 1 does (or the model is not usable).
std::int64_t largest_fitting_batch(const MemoryModel& model, std::int64_t budget_bytes,
                                   double growth_bytes, std::int64_t limit);

// How much a whole run may add to the peak a trial of `trial_steps` optimizer steps saw,
// when the trial's peak still grew by `growth_bytes` over its last half: the same growth
// for every further doubling of the steps, up to the run's `run_steps`.
double growth_over_run(std::int64_t growth_bytes, std::int64_t trial_steps, std::int64_t run_steps);

// "fixed 320.0 MiB + 41.2 MiB per sample, scatter 8.1 MiB (5 points)"
std::string describe(const MemoryModel& model);

}  // namespace orch
