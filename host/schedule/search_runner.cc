#include "host/schedule/search_runner.h"

#include <chrono>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>

#include "host/base/user_error.h"
#include "host/guard/interrupt.h"
#include "host/report/ranking.h"
#include "host/run/checkpoint_files.h"
#include "host/schedule/claims.h"
#include "host/schedule/epoch_stops.h"
#include "host/schedule/run_setup.h"
#include "host/schedule/search_points.h"
#include "host/schedule/sweep_runner.h"
#include "host/search/promotions.h"

namespace orch {
namespace {

using Clock = std::chrono::steady_clock;

// A sampler that keeps suggesting points the search has (an all-list space nearly
// exhausted) gets this many more tries before the search says it has seen the space.
constexpr int kTriesForANewPoint = 200;
constexpr int kWaitForOthersMs = 200;
constexpr int kHeartbeatEveryS = 2;

// A run the sampler should steer away from: it did not fit, or it cannot win.
bool infeasible(const storage::RunSummary& run, const Objective& objective) {
  if (run.status == RunStatus::kOom) return true;
  if (run.status == RunStatus::kSkipped) return run.error.rfind("infeasible", 0) == 0;
  if (run.status != RunStatus::kOk) return false;
  if (objective.max_peak_rss_bytes && run.peak_rss_bytes > *objective.max_peak_rss_bytes) {
    return true;
  }
  if (objective.min_val_accuracy && run.val_accuracy < *objective.min_val_accuracy) return true;
  return objective.max_epoch_s && metric_value(run, "epoch_s") > *objective.max_epoch_s;
}

// Neither pending, running nor interrupted: a resumed search does not run it again.
bool ended(const storage::RunSummary& run) {
  return is_final(run.status) && run.status != RunStatus::kInterrupted;
}

std::map<std::string, std::vector<const storage::RunSummary*>> by_configuration(
    const std::vector<storage::RunSummary>& runs) {
  std::map<std::string, std::vector<const storage::RunSummary*>> grouped;
  for (const auto& run : runs) grouped[run.config_key].push_back(&run);
  return grouped;
}

// The trial of one point whose `runs` (its repeats) have all ended.
Trial trial_of(const storage::SearchPointRecord& point,
               const std::vector<const storage::RunSummary*>& runs, const Objective& objective) {
  Trial trial;
  trial.point = point.coordinates;
  double sum = 0;
  int ok = 0;
  for (const auto* run : runs) {
    trial.infeasible = trial.infeasible || infeasible(*run, objective);
    trial.pruned = trial.pruned || run->status == RunStatus::kPruned;
    // time_to_target: a run that never reached the target has no time to compare.
    const bool counts = run->status == RunStatus::kOk &&
                        (!objective.target || reached_target(*run, *objective.target));
    if (counts) {
      sum += metric_value(*run, objective.metric);
      ++ok;
    }
  }
  if (ok > 0 && !trial.infeasible && !trial.pruned) {
    const double mean = sum / ok;
    trial.value = objective.maximize ? -mean : mean;
  }
  if (trial.pruned && !trial.infeasible) {
    // How far it got, and its value where it was stopped (its last epoch's).
    for (const auto* run : runs) {
      if (run->status != RunStatus::kPruned || run->epochs < trial.epochs) continue;
      const double value = metric_value(*run, objective.metric);
      if (!std::isfinite(value)) continue;
      trial.epochs = run->epochs;
      trial.value = objective.maximize ? -value : value;
    }
  }
  return trial;
}

class SearchRunner {
 public:
  SearchRunner(const Experiment& experiment, const PluginCatalog& catalog, storage::Store& store,
               const SweepOptions& options, std::int64_t experiment_id, std::ostream& progress)
      : experiment_(experiment),
        search_(experiment.search),
        catalog_(catalog),
        store_(store),
        options_(options),
        experiment_id_(experiment_id),
        progress_(progress),
        space_(search_space(experiment)),
        sampler_(sampler_for(experiment, space_)),
        started_(Clock::now()) {}

  SweepTally run() {
    announce();
    while (!interrupt_requested() && !tally_.interrupted) {
      std::vector<RunSpec> batch;
      SweepOptions round = options_;
      const bool others_running = next_batch(batch, round.points_before);
      round.points_total = static_cast<int>(search_.max_runs);
      if (batch.empty()) {
        if (!others_running) break;
        wait_for_others();
        continue;
      }
      std::vector<const RunSpec*> pending;
      for (const auto& run : batch) pending.push_back(&run);
      const int ended_before = tally_.ok + tally_.not_ok;
      tally_.planned += static_cast<int>(batch.size());
      std::set<std::string> held_by;
      tally_ = run_points(experiment_, pending, tally_, catalog_, store_, round, progress_,
                          experiment_id_, held_by);
      if (tally_.stopped_by_oom) break;  // on_oom = "stop"
      if (tally_.ok + tally_.not_ok == ended_before) {
        // Another orch took or finished these runs between the look and the claim.
        tally_.planned -= static_cast<int>(batch.size());
        wait_for_others();
      }
    }
    conclude();
    return tally_;
  }

 private:
  static std::unique_ptr<Sampler> sampler_for(const Experiment& experiment,
                                              const SearchSpace& space) {
    try {
      return make_sampler(experiment.search.strategy, space, experiment.search.seed);
    } catch (const std::invalid_argument& e) {
      throw UserError(experiment.search.at + ": [search] " + e.what());
    }
  }

  void announce() {
    progress_ << "search: " << strategy_word(search_.strategy) << " over "
              << space_.dimensions.size() << " swept axes, up to ";
    if (search_.max_runs > 0) progress_ << search_.max_runs << " points";
    if (search_.max_runs > 0 && search_.max_seconds > 0) progress_ << " or ";
    if (search_.max_seconds > 0) progress_ << search_.max_seconds << " s";
    if (search_.prune.rule != PruneRule::kNone) {
      progress_ << ", prune = " << prune_word(search_.prune.rule);
    }
    progress_ << " (seed " << search_.seed << ")\n";
  }

  // A pause before looking again, saying that this orch is alive while it waits.
  void wait_for_others() {
    std::this_thread::sleep_for(std::chrono::milliseconds(kWaitForOthersMs));
    if (Clock::now() - last_heartbeat_ >= std::chrono::seconds(kHeartbeatEveryS)) {
      store_.heartbeat(experiment_id_);
      last_heartbeat_ = Clock::now();
    }
  }

  bool budget_left(size_t points) const {
    if (search_.max_runs > 0 && static_cast<std::int64_t>(points) >= search_.max_runs) {
      return false;
    }
    return time_left();
  }

  // max_seconds ends new points and promotions alike.
  bool time_left() const {
    const double elapsed = std::chrono::duration<double>(Clock::now() - started_).count();
    return search_.max_seconds <= 0 || elapsed < search_.max_seconds;
  }

  // The runs to run now: the runs of points left unfinished (an earlier orch was stopped),
  // then new points, up to -j of them; `ended` counts the points whose runs all ended. True
  // when another orch is running points of this search, so that one may wait for them
  // instead of ending.
  bool next_batch(std::vector<RunSpec>& batch, int& ended_points) {
    const std::vector<storage::SearchPointRecord> points = usable_points();
    const std::vector<storage::RunSummary> runs =
        store_.latest_runs(experiment_.name, options_.machine_id);
    const auto grouped = by_configuration(runs);
    // Run keys another live orch holds; an orch that exited or fell silent holds nothing,
    // and its runs are run here (claim_run takes a silent orch's claims over).
    std::set<std::string> held;
    for (const auto& claim : live_claims(store_, experiment_.name, options_.claim_grace_s)) {
      if (claim.experiment_id != experiment_id_) held.insert(claim.run_key);
    }
    bool others_running = false;
    std::vector<Trial> history;
    for (const auto& point : points) {
      auto it = grouped.find(point.config_key);
      std::vector<const storage::RunSummary*> point_runs;
      if (it != grouped.end()) point_runs = it->second;
      size_t done = 0;
      for (const auto* run : point_runs) done += ended(*run) ? 1 : 0;
      if (done >= static_cast<size_t>(experiment_.repeats)) {
        history.push_back(trial_of(point, point_runs, experiment_.objective));
        continue;
      }
      for (RunSpec& run : runs_of(point.coordinates)) {
        if (held.count(run.key) > 0) {
          others_running = true;
        } else if (!ended_key(point_runs, run.key) &&
                   static_cast<int>(batch.size()) < options_.jobs) {
          batch.push_back(std::move(run));
        }
      }
    }
    const size_t unfinished = batch.size();
    if (search_.prune.promote && static_cast<int>(batch.size()) < options_.jobs && time_left()) {
      add_promotions(points, runs, held, batch, false);
    }
    // A promoted point is running again, not ended.
    ended_points = static_cast<int>(history.size() - (batch.size() - unfinished));
    if (static_cast<int>(batch.size()) < options_.jobs) add_new_points(points, history, batch);
    if (search_.prune.promote && batch.empty() && !others_running && time_left()) {
      add_promotions(points, runs, held, batch, true);
      ended_points -= static_cast<int>(batch.size());
    }
    return others_running;
  }

  // A run of the search asha paused at a rung, with the checkpoint it goes on from.
  struct Paused {
    PausedRun run;
    std::vector<double> coordinates;
  };

  // The latest runs of `points` that asha paused and that still have their checkpoint.
  std::vector<Paused> paused_runs(const std::vector<storage::SearchPointRecord>& points,
                                  const std::vector<storage::RunSummary>& runs) {
    std::map<std::string, const storage::SearchPointRecord*> point_of;
    for (const auto& point : points) point_of[point.config_key] = &point;
    std::vector<Paused> paused;
    if (checkpoints_dir_.empty()) checkpoints_dir_ = checkpoints_directory(store_.path());
    if (checkpoints_dir_.empty()) return paused;  // no folder: nothing could pause
    for (const storage::RunSummary& run : runs) {
      const auto point = point_of.find(run.config_key);
      if (point == point_of.end() || run.status != RunStatus::kPruned) continue;
      // Only a pause keeps a checkpoint at the epoch the run stopped after.
      const auto checkpoint = latest_checkpoint(checkpoints_dir_ + "/" + run.run_key);
      if (!checkpoint || checkpoint->epoch != run.epochs) continue;
      const double value = metric_value(run, experiment_.objective.metric);
      paused.push_back({{run.run_key, run.epochs, experiment_.objective.maximize ? -value : value},
                        point->second->coordinates});
    }
    return paused;
  }

  // ASHA's promotions: the paused runs now among the best 1/reduction of their rung go on
  // from their checkpoints before any new point starts. `to_finish`: the search has no
  // point left and no run that finished, so the leader of the deepest rung goes on.
  void add_promotions(const std::vector<storage::SearchPointRecord>& points,
                      const std::vector<storage::RunSummary>& runs,
                      const std::set<std::string>& held, std::vector<RunSpec>& batch,
                      bool to_finish) {
    if (to_finish) {
      for (const auto& run : runs) {
        if (run.status == RunStatus::kOk) return;  // the search has an answer
      }
    }
    std::vector<Paused> paused = paused_runs(points, runs);
    std::vector<PausedRun> candidates;
    for (const Paused& p : paused) {
      if (held.count(p.run.key) == 0) candidates.push_back(p.run);
    }
    std::vector<PausedRun> chosen;
    if (to_finish) {
      // Once per pause: should it pause there again, a deeper leader comes next time.
      auto first = leader(candidates);
      if (first && finishing_.insert(first->key + "@" + std::to_string(first->epoch)).second) {
        chosen.push_back(*first);
      }
    } else {
      const EpochValues reached = reported_by_epoch(experiment_, store_, options_.machine_id);
      chosen = promotable(search_.prune, reached, candidates);
    }
    for (const PausedRun& promoted : chosen) {
      if (static_cast<int>(batch.size()) >= options_.jobs) return;
      const auto of = std::find_if(paused.begin(), paused.end(),
                                   [&](const Paused& p) { return p.run.key == promoted.key; });
      for (RunSpec& run : runs_of(of->coordinates)) {
        if (run.key != promoted.key) continue;
        progress_ << "search: " << run.swept_text() << " goes on from its pause after epoch "
                  << promoted.epoch
                  << (to_finish
                          ? ": the best at the deepest rung, so that a run finishes\n"
                          : ": it is now among the best 1/" +
                                std::to_string(search_.prune.reduction) + " of the runs there\n");
        batch.push_back(std::move(run));
        ++tally_.promoted;
      }
    }
  }

  // The runs of one point; under promote = true each saves a checkpoint at every rung
  // before its last epoch, where asha may pause it.
  std::vector<RunSpec> runs_of(const std::vector<double>& coordinates) const {
    std::vector<RunSpec> runs = runs_of_point(experiment_, space_, coordinates);
    if (!search_.prune.promote) return runs;
    for (RunSpec& run : runs) {
      run.checkpoint_epochs =
          rungs_before_the_end(search_.prune, static_cast<int>(run.train.epochs));
    }
    return runs;
  }

  static bool ended_key(const std::vector<const storage::RunSummary*>& runs,
                        const std::string& key) {
    for (const auto* run : runs) {
      if (run->run_key == key && ended(*run)) return true;
    }
    return false;
  }

  // The points of this search that fit this file's [sweep]; an earlier search of the same
  // name over other axes is left out, once said.
  std::vector<storage::SearchPointRecord> usable_points() {
    std::vector<storage::SearchPointRecord> usable;
    size_t foreign = 0;
    for (auto& point : store_.search_points(experiment_.name)) {
      next_index_ = std::max(next_index_, point.index + 1);
      if (point.coordinates.size() != space_.dimensions.size()) {
        ++foreign;
        continue;
      }
      usable.push_back(std::move(point));
    }
    if (foreign > 0 && !said_foreign_) {
      progress_ << foreign << " point(s) of an earlier search of '" << experiment_.name
                << "' have other swept axes than this file; this search leaves them out\n";
      said_foreign_ = true;
    }
    return usable;
  }

  void add_new_points(const std::vector<storage::SearchPointRecord>& points,
                      const std::vector<Trial>& history, std::vector<RunSpec>& batch) {
    std::set<std::string> known;
    for (const auto& point : points) known.insert(point.config_key);
    size_t counted = points.size();
    while (static_cast<int>(batch.size()) < options_.jobs && budget_left(counted) && !exhausted_) {
      std::vector<RunSpec> runs = new_point(known, history);
      if (runs.empty()) return;
      ++counted;
      for (auto& run : runs) batch.push_back(std::move(run));
    }
  }

  // The runs of one point no one suggested yet, recorded as the next point of the search;
  // empty when the sampler finds none in kTriesForANewPoint tries.
  std::vector<RunSpec> new_point(std::set<std::string>& known, const std::vector<Trial>& history) {
    for (int tries = 0; tries < kTriesForANewPoint; ++tries) {
      const int index = next_index_++;
      Point point = sampler_->suggest(history, static_cast<size_t>(index));
      std::vector<RunSpec> runs = runs_of(point);
      if (runs.empty() || known.count(runs.front().config_key) > 0) continue;  // excluded, seen
      storage::SearchPointRecord record{index, strategy_word(search_.strategy),
                                        runs.front().config_key, runs.front().swept_text(), point};
      if (!store_.add_search_point(experiment_.name, record)) continue;  // another orch's index
      known.insert(record.config_key);
      return runs;
    }
    progress_ << "search: no new point in " << kTriesForANewPoint
              << " tries; every point the sampler finds was tried already\n";
    exhausted_ = true;
    return {};
  }

  void conclude() {
    const auto points = usable_points();
    const auto runs = store_.latest_runs(experiment_.name, options_.machine_id);
    const auto history = search_history(experiment_, points, runs);
    int infeasible_points = 0, pruned_points = 0;
    for (const auto& trial : history) {
      infeasible_points += trial.infeasible ? 1 : 0;
      pruned_points += trial.pruned ? 1 : 0;
    }
    progress_ << "search: " << points.size() << " point(s) tried, " << infeasible_points
              << " infeasible, " << pruned_points << (search_.prune.promote ? " paused" : " pruned")
              << "\n";
    if (search_.prune.promote && !tally_.interrupted && !interrupt_requested()) {
      // The search is over: no paused run goes on now, and its checkpoint is only disk.
      for (const Paused& paused : paused_runs(points, runs)) {
        remove_checkpoints(checkpoints_dir_ + "/" + paused.run.key);
      }
    }
  }

  const Experiment& experiment_;
  const SearchSettings& search_;
  const PluginCatalog& catalog_;
  storage::Store& store_;
  const SweepOptions& options_;
  std::int64_t experiment_id_;
  std::ostream& progress_;
  SearchSpace space_;
  std::unique_ptr<Sampler> sampler_;
  Clock::time_point started_;
  Clock::time_point last_heartbeat_ = Clock::now();
  SweepTally tally_;
  int next_index_ = 0;
  bool exhausted_ = false;
  std::set<std::string> finishing_;  // "key@epoch": paused runs sent on to finish
  std::string checkpoints_dir_;      // "<db>-checkpoints", once it was needed
  bool said_foreign_ = false;
};

}  // namespace

std::vector<Trial> search_history(const Experiment& experiment,
                                  const std::vector<storage::SearchPointRecord>& points,
                                  const std::vector<storage::RunSummary>& runs) {
  const auto grouped = by_configuration(runs);
  std::vector<Trial> history;
  for (const auto& point : points) {
    auto it = grouped.find(point.config_key);
    if (it == grouped.end()) continue;
    size_t done = 0;
    for (const auto* run : it->second) done += ended(*run) ? 1 : 0;
    if (done < static_cast<size_t>(experiment.repeats)) continue;
    history.push_back(trial_of(point, it->second, experiment.objective));
  }
  return history;
}

SweepTally run_search(const Experiment& experiment, const PluginCatalog& catalog,
                      storage::Store& store, const SweepOptions& options,
                      std::int64_t experiment_id, std::ostream& progress) {
  return SearchRunner(experiment, catalog, store, options, experiment_id, progress).run();
}

}  // namespace orch
