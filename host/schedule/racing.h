// [search] race = true: a grid of repeats in which a configuration stops getting repeats
// as soon as it is clearly slower than the best one. Repeats run round by round
// (interleaved), so repeat r of two configurations ran minutes apart on the same machine;
// each pair of them is one paired measurement, and the log of their ratio cancels what the
// machine did to both. Once three rounds are paired and the 95% interval of the mean log
// ratio lies wholly above a 1% gap, the slower configuration's remaining repeats are not
// run ("pruned" by the race), and the budget goes to the contenders.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "host/run/run_spec.h"
#include "host/sweep/experiment.h"
#include "storage/store.h"

namespace orch {

// Rounds both configurations must have finished before one can be raced out.
inline constexpr size_t kRaceRounds = 3;

class Race {
 public:
  // Null unless the experiment races. It races the runs of machine `machine_id` only (0:
  // every machine's): another machine's times are not this one's.
  static std::unique_ptr<Race> of(const Experiment& experiment, storage::Store& store,
                                  std::int64_t machine_id = 0);

  // Why `run` (a repeat about to start) should not run: "raced out: 1.31x slower than the
  // best (train.batch_size=8) in epoch_s, paired over 3 rounds, 95% interval 1.22x -
  // 1.40x"; nothing while it is a contender.
  std::optional<std::string> raced_out(const RunSpec& run);

 private:
  Race(const Experiment& experiment, storage::Store& store, std::int64_t machine_id)
      : experiment_(experiment), store_(store), machine_id_(machine_id) {}

  const Experiment& experiment_;
  storage::Store& store_;
  std::int64_t machine_id_;
};

}  // namespace orch
