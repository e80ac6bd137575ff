// Every search strategy replayed against a grid recorded once (bench/search_replay.toml,
// 48 configurations x 9 epochs, in bench/data/search_replay.db): for each strategy and
// pruning rule, 100 seeds of the same sampler and pruner orch runs, where "running" a
// point reads its recorded epochs instead of training. Deterministic and in seconds.
//
//   search_replay [DB] [--seeds N] [--smoke]
//                 [--row STRATEGY,RULE,MIN_EPOCHS,REDUCTION,POINTS[,promote]]
//
// --row replays that one row instead of the table's (e.g. --row bayes,asha,1,4,40,promote),
// to try settings the table does not hold.
//
// Prints, per strategy: the share of seeds whose winner lies in the full grid's tie set
// (the winner and every configuration orch's ranking cannot tell apart from it), and the
// compute used (epochs trained) as a share of the grid's, median and worst over seeds.
// The last line is RESULT lines for bench/run.sh.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/report/ranking.h"
#include "host/search/promotions.h"
#include "host/search/pruner.h"
#include "host/search/sampler.h"
#include "storage/store.h"

namespace {

using namespace orch;

// One configuration of the recorded grid.
struct Config {
  std::string config_key;
  std::string label;
  Point point;                   // the index of each of its values
  std::vector<double> accuracy;  // val_accuracy after each epoch
};

struct Grid {
  SearchSpace space;
  std::vector<Config> configs;
  std::map<Point, size_t> by_point;
  std::set<std::string> tie_set;  // config keys
  size_t epochs = 0;
};

// "train.lr=0.001 train.optimizer="adam"" -> its key=value pairs, in order.
std::vector<std::pair<std::string, std::string>> swept_pairs(const std::string& swept) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::istringstream words(swept);
  std::string word;
  while (words >> word) {
    const size_t eq = word.find('=');
    if (eq != std::string::npos) pairs.emplace_back(word.substr(0, eq), word.substr(eq + 1));
  }
  return pairs;
}

// The recorded database, read-only; one an older orch recorded (an older schema) is read
// through a migrated copy, so the checked-in file never changes under a replay.
struct RecordedGrid {
  explicit RecordedGrid(const std::string& db_path) {
    store = storage::Store::OpenForReading(db_path);
    std::error_code error;
    if (store || !std::filesystem::exists(db_path, error)) return;
    copy = (std::filesystem::temp_directory_path() /
            ("search_replay_" + std::to_string(::getpid()) + ".db"))
               .string();
    std::filesystem::copy_file(db_path, copy, std::filesystem::copy_options::overwrite_existing);
    store = storage::Store::Open(copy);
  }
  ~RecordedGrid() {
    store.reset();
    std::error_code ignored;
    if (copy.empty()) return;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(copy + suffix, ignored);
  }
  std::optional<storage::Store> store;
  std::string copy;
};

Grid load_grid(const std::string& db_path) {
  RecordedGrid recorded(db_path);
  auto& store = recorded.store;
  if (!store) throw std::runtime_error("no orch database at " + db_path);
  const std::string name = store->latest_experiment_name();
  const std::vector<storage::RunSummary> runs = store->latest_runs(name);
  Grid grid;
  std::vector<std::string> keys;
  std::vector<std::vector<std::string>> values;  // per key, in order of appearance
  for (const auto& run : runs) {
    if (run.status != RunStatus::kOk) continue;
    Config config{run.config_key, run.swept, {}, {}};
    for (const auto& [key, value] : swept_pairs(run.swept)) {
      auto k = std::find(keys.begin(), keys.end(), key) - keys.begin();
      if (static_cast<size_t>(k) == keys.size()) {
        keys.push_back(key);
        values.emplace_back();
      }
      auto& seen = values[static_cast<size_t>(k)];
      auto v = std::find(seen.begin(), seen.end(), value) - seen.begin();
      if (static_cast<size_t>(v) == seen.size()) seen.push_back(value);
      config.point.push_back(static_cast<double>(v));
    }
    for (const auto& epoch : store->epochs_of(run.run_id)) {
      config.accuracy.push_back(epoch.val_accuracy);
    }
    grid.epochs = std::max(grid.epochs, config.accuracy.size());
    grid.by_point[config.point] = grid.configs.size();
    grid.configs.push_back(std::move(config));
  }
  for (size_t k = 0; k < keys.size(); ++k) {
    Dimension dimension;
    dimension.name = keys[k];
    dimension.choices = values[k].size();
    grid.space.dimensions.push_back(dimension);
  }
  Objective objective;
  objective.metric = "val_accuracy";
  objective.maximize = true;
  const Ranking ranking = rank_configurations(runs, objective);
  if (const ConfigResult* winner = ranking.winner()) grid.tie_set.insert(winner->config_key);
  for (const ConfigResult* tied : ranking.tied_with_winner) grid.tie_set.insert(tied->config_key);
  return grid;
}

struct Outcome {
  bool in_tie_set = false;
  double accuracy = 0;  // the winner's final val_accuracy
  size_t epochs = 0;    // trained, over every point
};

// The next configuration the sampler suggests that was not tried, within the 200 tries
// orch's search gives it; nothing when it keeps suggesting tried ones (orch then stops).
std::optional<size_t> next_untried(const Grid& grid, Sampler& sampler,
                                   const std::vector<Trial>& history, size_t& index,
                                   const std::set<size_t>& tried) {
  for (int tries = 0; tries < 200; ++tries) {
    auto found = grid.by_point.find(sampler.suggest(history, index++));
    if (found != grid.by_point.end() && !tried.count(found->second)) return found->second;
  }
  return std::nullopt;
}

// One search as orch runs it with -j 1: suggest, run (read the recorded epochs, asking
// the pruner after each but the last), learn.
Outcome replay(const Grid& grid, SearchStrategy strategy, const PruneSettings& prune, size_t points,
               std::uint64_t seed) {
  auto sampler = make_sampler(strategy, grid.space, seed);
  auto pruner = make_pruner(prune);
  std::vector<Trial> history;
  EpochValues seen;
  std::set<size_t> tried;
  Outcome outcome;
  std::optional<size_t> best;
  size_t index = 0;
  for (size_t n = 0; n < points && tried.size() < grid.configs.size(); ++n) {
    const std::optional<size_t> next = next_untried(grid, *sampler, history, index, tried);
    if (!next) break;  // the sampler finds nothing new
    const size_t config = *next;
    tried.insert(config);
    const std::vector<double>& accuracy = grid.configs[config].accuracy;
    size_t trained = accuracy.size();
    for (size_t e = 1; pruner && e < accuracy.size(); ++e) {
      if (pruner->should_prune(seen, static_cast<int>(e), -accuracy[e - 1])) {
        trained = e;
        break;
      }
    }
    for (size_t e = 1; e <= trained; ++e) seen[static_cast<int>(e)].push_back(-accuracy[e - 1]);
    outcome.epochs += trained;
    Trial trial{grid.configs[config].point, -accuracy[trained - 1], false,
                trained < accuracy.size(), static_cast<int>(trained)};
    if (!trial.pruned) {
      trial.value = -accuracy.back();
      if (!best || accuracy.back() > grid.configs[*best].accuracy.back()) best = config;
    }
    history.push_back(std::move(trial));
  }
  outcome.in_tie_set = best && grid.tie_set.count(grid.configs[*best].config_key) > 0;
  if (best) outcome.accuracy = grid.configs[*best].accuracy.back();
  return outcome;
}

// The same search with ASHA's promotions ([search] promote = true), as orch runs it with
// -j 1: before each new point, a paused run that is now among the best 1/reduction of its
// rung goes on from where it paused; when no point is left and nothing finished, the
// leader of the deepest rung goes on.
Outcome replay_promoting(const Grid& grid, SearchStrategy strategy, const PruneSettings& prune,
                         size_t points, std::uint64_t seed) {
  auto sampler = make_sampler(strategy, grid.space, seed);
  auto pruner = make_pruner(prune);
  std::vector<Trial> history;     // one per point, in the order they were suggested
  std::vector<size_t> config_of;  // per point
  std::vector<size_t> trained;    // per point: epochs so far
  EpochValues seen;
  std::set<size_t> tried;
  Outcome outcome;
  std::optional<size_t> best;
  size_t index = 0;
  const size_t epochs = grid.epochs;
  // Point `p` trains on from where it is until the pruner pauses it or it finishes.
  auto run = [&](size_t p) {
    const std::vector<double>& accuracy = grid.configs[config_of[p]].accuracy;
    size_t e = trained[p];
    while (e < epochs) {
      ++e;
      const bool pause =
          e < epochs && pruner->should_prune(seen, static_cast<int>(e), -accuracy[e - 1]);
      seen[static_cast<int>(e)].push_back(-accuracy[e - 1]);
      if (pause) break;
    }
    outcome.epochs += e - trained[p];
    trained[p] = e;
    history[p] = Trial{grid.configs[config_of[p]].point, -accuracy[e - 1], false, e < epochs,
                       static_cast<int>(e)};
    if (e == epochs && (!best || accuracy.back() > grid.configs[*best].accuracy.back())) {
      best = config_of[p];
    }
  };
  auto paused = [&] {
    std::vector<PausedRun> out;
    for (size_t p = 0; p < trained.size(); ++p) {
      if (trained[p] < epochs) {
        out.push_back({std::to_string(p), static_cast<int>(trained[p]), *history[p].value});
      }
    }
    return out;
  };
  for (;;) {
    const std::vector<PausedRun> now = promotable(prune, seen, paused());
    if (!now.empty()) {
      run(std::stoul(now.front().key));
      continue;
    }
    if (tried.size() < points && tried.size() < grid.configs.size()) {
      const std::optional<size_t> config = next_untried(grid, *sampler, history, index, tried);
      if (!config) break;  // the sampler finds nothing new
      tried.insert(*config);
      config_of.push_back(*config);
      trained.push_back(0);
      history.push_back(Trial{grid.configs[*config].point, std::nullopt, false, true, 0});
      run(config_of.size() - 1);
      continue;
    }
    const std::optional<PausedRun> first = best ? std::nullopt : leader(paused());
    if (!first) break;
    run(std::stoul(first->key));
  }
  outcome.in_tie_set = best && grid.tie_set.count(grid.configs[*best].config_key) > 0;
  if (best) outcome.accuracy = grid.configs[*best].accuracy.back();
  return outcome;
}

struct Row {
  SearchStrategy strategy;
  PruneRule rule;
  size_t points;
  int min_epochs;
  int reduction = 3;     // asha: 1/reduction of a rung goes on
  bool promote = false;  // asha: paused runs go on later (promotions)
};

// The rows of the table: each strategy without pruning at a quarter and half of the grid's
// points, and with pruning at more points for about the same compute.
const std::vector<Row>& rows() {
  static const std::vector<Row> rows = {
      {SearchStrategy::kRandom, PruneRule::kNone, 12, 1},
      {SearchStrategy::kSobol, PruneRule::kNone, 12, 1},
      {SearchStrategy::kBayes, PruneRule::kNone, 12, 1},
      {SearchStrategy::kRandom, PruneRule::kNone, 24, 1},
      {SearchStrategy::kBayes, PruneRule::kNone, 24, 1},
      {SearchStrategy::kRandom, PruneRule::kAsha, 24, 1},
      {SearchStrategy::kBayes, PruneRule::kAsha, 24, 1},
      {SearchStrategy::kRandom, PruneRule::kAsha, 24, 3},
      {SearchStrategy::kBayes, PruneRule::kAsha, 24, 3},
      {SearchStrategy::kBayes, PruneRule::kAsha, 32, 3},
      {SearchStrategy::kRandom, PruneRule::kAsha, 32, 3},
      {SearchStrategy::kBayes, PruneRule::kMedian, 24, 3},
      {SearchStrategy::kRandom, PruneRule::kMedian, 24, 3},
      {SearchStrategy::kBayes, PruneRule::kAsha, 48, 3},
      {SearchStrategy::kSobol, PruneRule::kAsha, 48, 3},
      // From epoch 1 keeping half at each rung (1, 2, 4, 8): the pruner settings that came
      // nearest the target on this grid (docs/search.md), at the number of points
      // whose compute is about a quarter of the grid's.
      {SearchStrategy::kBayes, PruneRule::kAsha, 38, 1, 2},
      {SearchStrategy::kRandom, PruneRule::kAsha, 38, 1, 2},
      {SearchStrategy::kSobol, PruneRule::kAsha, 38, 1, 2},
      {SearchStrategy::kBayes, PruneRule::kAsha, 40, 1, 2},
      // ASHA with promotions ([search] promote = true): a run paused at a rung goes on later
      // if the runs after it put it in the best 1/reduction there.
      {SearchStrategy::kBayes, PruneRule::kAsha, 24, 3, 3, true},
      {SearchStrategy::kBayes, PruneRule::kAsha, 38, 1, 2, true},
      {SearchStrategy::kBayes, PruneRule::kAsha, 40, 1, 3, true},
      {SearchStrategy::kBayes, PruneRule::kAsha, 40, 1, 4, true},
      {SearchStrategy::kRandom, PruneRule::kAsha, 40, 1, 4, true},
      {SearchStrategy::kSobol, PruneRule::kAsha, 40, 1, 4, true},
      {SearchStrategy::kBayes, PruneRule::kAsha, 32, 1, 4, true},
  };
  return rows;
}

// One row over every seed: its table line, and its RESULT lines appended to `results`.
void print_row(const Grid& grid, const Row& row, int seeds, std::string& results) {
  const double grid_epochs = static_cast<double>(grid.configs.size() * grid.epochs);
  double grid_best = 0;
  for (const Config& config : grid.configs) grid_best = std::max(grid_best, config.accuracy.back());
  PruneSettings prune;
  prune.rule = row.rule;
  prune.min_epochs = row.min_epochs;
  prune.reduction = row.reduction;
  prune.promote = row.promote;
  int hits = 0;
  std::vector<double> shares, gaps;
  for (int seed = 0; seed < seeds; ++seed) {
    const auto seed_of_row = static_cast<std::uint64_t>(seed);
    const Outcome outcome =
        row.promote ? replay_promoting(grid, row.strategy, prune, row.points, seed_of_row)
                    : replay(grid, row.strategy, prune, row.points, seed_of_row);
    hits += outcome.in_tie_set ? 1 : 0;
    shares.push_back(static_cast<double>(outcome.epochs) / grid_epochs);
    gaps.push_back(grid_best - outcome.accuracy);
  }
  std::sort(shares.begin(), shares.end());
  std::sort(gaps.begin(), gaps.end());
  const double hit_share = static_cast<double>(hits) / seeds;
  // "asha (3)" for the default reduction of 3, "asha (1, 1/2 go on)" otherwise; in RESULT
  // names "asha3" and "asha1r2", so that the names bench/run.sh knows stay as they were.
  std::string prune_label =
      std::string(prune_word(row.rule)) + " (" + std::to_string(row.min_epochs);
  std::string prune_name = prune_word(row.rule) + std::to_string(row.min_epochs);
  if (row.rule == PruneRule::kAsha && row.reduction != 3) {
    prune_label += ", 1/" + std::to_string(row.reduction) + " go on";
    prune_name += "r" + std::to_string(row.reduction);
  }
  if (row.promote) {
    prune_label += ", promoted";
    prune_name += "p";
  }
  prune_label += ")";
  std::printf("| %s | %s | %zu | %.0f%% | %.3f, %.3f | %.0f%%, %.0f%% |\n",
              strategy_word(row.strategy), prune_label.c_str(), row.points, 100 * hit_share,
              gaps[gaps.size() / 2], gaps.back(), 100 * shares[shares.size() / 2],
              100 * shares.back());
  // The target: bayes with asha at most a quarter of the grid's compute.
  const bool target = row.strategy == SearchStrategy::kBayes && row.rule == PruneRule::kAsha &&
                      row.promote && row.points == 40 && row.min_epochs == 1 && row.reduction == 4;
  char result[240];
  std::snprintf(result, sizeof result,
                "RESULT search_replay_%s_%s_%zu_in_tie_set %.3f%s\n"
                "RESULT search_replay_%s_%s_%zu_compute %.3f%s\n",
                strategy_word(row.strategy), prune_name.c_str(), row.points, hit_share,
                target ? " target>=0.95" : "", strategy_word(row.strategy), prune_name.c_str(),
                row.points, shares[shares.size() / 2], target ? " target<=0.25" : "");
  results += result;
}

// "bayes,asha,1,2,38" -> its row; throws std::invalid_argument for anything else.
Row parse_row(const std::string& text) {
  std::vector<std::string> fields;
  std::istringstream parts(text);
  for (std::string field; std::getline(parts, field, ',');) fields.push_back(field);
  const bool promote = fields.size() == 6 && fields[5] == "promote";
  if (fields.size() != 5 && !promote) {
    throw std::invalid_argument(
        "--row wants STRATEGY,RULE,MIN_EPOCHS,REDUCTION,POINTS[,promote], not " + text);
  }
  Row row{SearchStrategy::kBayes, PruneRule::kNone, 0, 1};
  for (SearchStrategy s :
       {SearchStrategy::kRandom, SearchStrategy::kSobol, SearchStrategy::kBayes}) {
    if (fields[0] == strategy_word(s)) row.strategy = s;
  }
  for (PruneRule r : {PruneRule::kNone, PruneRule::kMedian, PruneRule::kAsha}) {
    if (fields[1] == prune_word(r)) row.rule = r;
  }
  if (fields[0] != strategy_word(row.strategy) || fields[1] != prune_word(row.rule)) {
    throw std::invalid_argument("--row " + text + ": no such strategy or pruning rule");
  }
  try {
    row.min_epochs = std::stoi(fields[2]);
    row.reduction = std::stoi(fields[3]);
    row.points = static_cast<size_t>(std::stoul(fields[4]));
  } catch (const std::logic_error&) {
    throw std::invalid_argument("--row " + text + ": MIN_EPOCHS, REDUCTION and POINTS are numbers");
  }
  row.promote = promote;
  if (promote && row.rule != PruneRule::kAsha) {
    throw std::invalid_argument("--row " + text + ": only asha promotes");
  }
  make_pruner({row.rule, row.min_epochs, row.reduction});  // its own message for a bad one
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db = "bench/data/search_replay.db";
  int seeds = 100;
  std::vector<std::string> row_texts;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--seeds" && i + 1 < argc) {
      seeds = std::stoi(argv[++i]);
    } else if (arg == "--row" && i + 1 < argc) {
      row_texts.push_back(argv[++i]);
    } else if (arg == "--smoke") {
      seeds = 5;
    } else {
      db = arg;
    }
  }
  try {
    std::vector<Row> chosen;
    for (const std::string& text : row_texts) chosen.push_back(parse_row(text));
    const Grid grid = load_grid(db);
    std::printf("grid: %zu configurations x %zu epochs, tie set of %zu (%s), %d seeds each\n\n",
                grid.configs.size(), grid.epochs, grid.tie_set.size(), db.c_str(), seeds);
    std::printf(
        "| strategy | prune (min_epochs) | points | winner in tie set | winner below the best "
        "(median, worst) | compute (median, worst) |\n|---|---|---|---|---|---|\n");
    std::string results;  // after the table, which they would break
    for (const Row& row : chosen.empty() ? rows() : chosen) print_row(grid, row, seeds, results);
    std::printf("\n%s", results.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "search_replay: %s\n", e.what());
    return 2;
  }
  return 0;
}
