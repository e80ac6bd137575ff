// orch plan FILE: the runs a sweep expands to, and which of them are already done.
// Executes nothing and writes nothing.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "host/base/memory_budget.h"
#include "host/base/table.h"
#include "host/cli/commands.h"
#include "host/cli/prepared_sweep.h"
#include "host/json/plan_json.h"
#include "host/machine/machine_identity.h"
#include "host/probe/memory_forecast.h"
#include "host/run/run_key.h"
#include "host/run/value_text.h"
#include "host/schedule/run_setup.h"
#include "host/schedule/search_points.h"
#include "host/sweep/experiment.h"
#include "host/sweep/sweep.h"
#include "storage/store.h"

namespace orch {
namespace {

// What `orch run` would skip here: the runs finished ok on this machine (by fingerprint,
// under any name it was given, or as recorded before machines were), not on others.
std::set<std::string> finished_keys(const std::string& db_path, const std::string& name) {
  auto store = storage::Store::OpenForReading(db_path);
  if (!store) return {};
  const storage::MachineRecord here = this_machine("");
  std::set<std::string> finished;
  for (const auto& machine : store->machines()) {
    if (machine.fingerprint != here.fingerprint && machine.fingerprint != here.recorded_key) {
      continue;
    }
    const auto keys = store->run_keys(name, storage::Store::KeysThat::kFinishedOk, machine.id);
    finished.insert(keys.begin(), keys.end());
  }
  return finished;
}

// "12 combinations (from 2 model.plugin x 6 train.batch_size), 3 excluded by rules (rule
// at line 20: 3) -> 9 configurations x 2 repeats"
std::string describe_product(const Experiment& experiment, const SweepCounts& counts) {
  std::string out = std::to_string(counts.combinations) +
                    (counts.combinations == 1 ? " combination" : " combinations");
  if (experiment.sweep.empty()) {
    out += " (no [sweep])";
  } else {
    std::string factors;
    for (const auto& axis : experiment.sweep) {
      factors += (factors.empty() ? "" : " x ") + std::to_string(axis.size()) + " " + axis.label();
    }
    out += " (from " + factors + ")";
  }
  if (!experiment.exclusions.empty()) {
    std::string rules;
    for (size_t r = 0; r < experiment.exclusions.size(); ++r) {
      rules += (rules.empty() ? "" : ", ") + std::string("rule at line ") +
               std::to_string(experiment.exclusions[r].line) + ": " +
               std::to_string(counts.excluded_by_rule[r]);
    }
    out += ", " + std::to_string(counts.excluded) + " excluded by rules (" + rules + ")";
  }
  if (counts.duplicates > 0) {
    out += ", " + std::to_string(counts.duplicates) +
           " dropped as duplicates (the same parameters as an earlier combination)";
  }
  if (counts.configurations() != counts.combinations || experiment.repeats > 1) {
    out += " -> " + std::to_string(counts.configurations()) + " configurations";
    if (experiment.repeats > 1) out += " x " + std::to_string(experiment.repeats) + " repeats";
  }
  return out;
}

// "backend cpu, dataset synthetic, model mlp | memory_hog"
std::string describe_plugins(const Experiment& experiment) {
  std::string out;
  for (const auto& [section, kind] : plugin_sections()) {
    std::string names;
    for (const auto& plugin : experiment.sections.at(section).choices) {
      names += (names.empty() ? "" : " | ") + plugin;
    }
    out += (out.empty() ? "" : ", ") + section + " " + names;
  }
  return out;
}

// "100000": the decimal digits of `number`, into `buffer`.
std::string_view decimal(size_t number, char (&buffer)[24]) {
  auto end = std::to_chars(buffer, buffer + sizeof buffer, number).ptr;
  return {buffer, static_cast<size_t>(end - buffer)};
}

// "k=v k=\"a b\" ...": the key=value words of a swept text, quotes kept together.
std::vector<std::string> swept_words(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (c == ' ' && !quoted) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

// Runs that share a memory key and budget, and the batch sizes they ask for.
struct MemoryGroup {
  size_t first_run = 0;
  std::string label;
  std::set<std::int64_t> batch_sizes;
};

// Groups the runs by what their memory depends on (their swept values that change memory,
// and the budget) without building a RunSpec per run: a 100,000-point grid over learning
// rates and batch sizes has one group.
std::vector<MemoryGroup> memory_groups(const SweepRuns& runs) {
  std::map<std::string, size_t> index;
  std::vector<MemoryGroup> groups;
  std::string swept;
  for (size_t run = 0; run < runs.size(); ++run) {
    swept.clear();
    runs.append_swept_text(run, swept);
    std::string id = std::to_string(runs.plugin_choice(run));
    std::string label;
    std::optional<std::int64_t> batch;
    for (const auto& word : swept_words(swept)) {
      const auto equals = word.find('=');
      if (equals == std::string::npos) continue;
      const std::string key = word.substr(0, equals);
      if (key == "train.batch_size") {
        std::int64_t value = 0;
        const std::string text = word.substr(equals + 1);
        if (std::from_chars(text.data(), text.data() + text.size(), value).ec == std::errc()) {
          batch = value;
        }
        continue;
      }
      if (key == "train.memory_limit" || changes_memory(key)) {
        id += " " + word;
        label += (label.empty() ? "" : " ") + word;
      }
    }
    auto [it, added] = index.emplace(id, groups.size());
    if (added) groups.push_back({run, label.empty() ? "every run" : label, {}});
    MemoryGroup& group = groups[it->second];
    if (!batch) batch = runs.spec(group.first_run).train.batch_size;
    group.batch_sizes.insert(*batch);
  }
  return groups;
}

// The memory forecast of every group, from the peaks this database has measured; nothing
// when there is no database yet.
std::optional<std::vector<MemoryForecast>> memory_forecasts(const SweepRuns& runs,
                                                            const std::string& db_path) {
  auto store = storage::Store::OpenForReading(db_path);
  if (!store) return std::nullopt;
  std::vector<MemoryForecast> forecasts;
  for (const auto& group : memory_groups(runs)) {
    const RunSpec spec = runs.spec(group.first_run);
    const std::string key = memory_key(spec);
    MemoryForecast forecast;
    forecast.label = group.label;
    forecast.budget_bytes = run_budget(spec);
    forecast.batch_sizes.assign(group.batch_sizes.begin(), group.batch_sizes.end());
    std::vector<MemoryPoint> points;
    for (const auto& seen : store->memory_observations(key)) {
      points.push_back({seen.batch_size, seen.peak_rss_bytes});
      forecast.measured_full_runs += seen.full_run ? 1 : 0;
      forecast.largest_measured_batch = std::max(forecast.largest_measured_batch, seen.batch_size);
    }
    forecast.model = fit_memory_model(points);
    if (auto answer = store->probe_answer(key, forecast.budget_bytes)) {
      forecast.probe_answer = answer->max_batch_size;
      // What a rehearsed epoch held over the trials joins every size's margin.
      forecast.growth_bytes =
          static_cast<double>(answer->growth_bytes + answer->epoch_excess_bytes);
    }
    forecasts.push_back(std::move(forecast));
  }
  return forecasts;
}

std::string memory_text(const std::optional<std::vector<MemoryForecast>>& forecasts,
                        const std::string& db_path) {
  if (!forecasts) {
    return "memory: no measured peaks in " + db_path +
           " yet; `orch probe FILE` measures them and predicts every batch size\n";
  }
  std::string out;
  for (const auto& forecast : *forecasts) out += render_memory_forecast(forecast);
  return out;
}

const std::string kDone = "done (skipped)";
const std::string kWouldRun = "would run";

// The state of every run, and the widths of the table. Holds pointers into itself, so it
// is filled in place and never copied.
struct RunStates {
  RunStates() = default;
  RunStates(const RunStates&) = delete;
  RunStates& operator=(const RunStates&) = delete;

  std::map<size_t, std::string> skip_of_choice;  // "" when its backend is available
  std::vector<const std::string*> states;        // kDone, kWouldRun or a skip_of_choice
  size_t pending = 0;
  size_t swept_width = 0;
  size_t state_width = 0;
};

// "" when the run's backend is available, else "would skip: why". A run's backend is the
// same for every run of its plugin choice, so each choice is asked once.
const std::string& skip_of(const SweepRuns& runs, size_t run, const PluginCatalog& catalog,
                           std::map<size_t, std::string>& skip_of_choice) {
  auto choice = skip_of_choice.find(runs.plugin_choice(run));
  if (choice == skip_of_choice.end()) {
    std::string unavailable = backend_unavailable(runs.spec(run), catalog);
    choice = skip_of_choice
                 .emplace(runs.plugin_choice(run),
                          unavailable.empty() ? "" : "would skip: " + unavailable)
                 .first;
  }
  return choice->second;
}

void judge_runs(const PreparedPlan& prepared, const std::set<std::string>& done, RunStates& out) {
  const SweepRuns& runs = *prepared.runs;
  out.states.resize(runs.size());
  for (size_t run = 0; run < runs.size(); ++run) {
    const bool finished = !done.empty() && done.count(runs.key(run)) > 0;
    const std::string& skip = skip_of(runs, run, *prepared.catalog, out.skip_of_choice);
    const std::string& state = finished ? kDone : skip.empty() ? kWouldRun : skip;
    out.pending += &state == &kWouldRun ? 1 : 0;
    out.states[run] = &state;
    out.state_width = std::max(out.state_width, state.size());
    out.swept_width = std::max(out.swept_width, runs.swept_text_size(run));
  }
}

// The lines above the table: counts, how the product came about, plugins, overrides and
// the budget.
std::string plan_heading(const Experiment& experiment, const SweepRuns& runs, size_t pending) {
  std::string out = "experiment '" + experiment.name + "': " + std::to_string(runs.size()) +
                    " runs (" + std::to_string(pending) + " would run)\n" +
                    describe_product(experiment, runs.counts()) + "\n" +
                    describe_plugins(experiment) + "\n";
  if (!experiment.overrides.empty()) {
    out += "overrides:";
    for (const auto& shown : experiment.overrides) out += " " + shown;
    out += "\n";
  }
  out += "memory budget per run: " + describe_bytes(run_budget(runs.spec(0))) + "\n" +
         (experiment.auto_batch_size
              ? "batch_size = \"auto\": probed when the sweep runs; run keys follow it\n"
              : "") +
         "\n";
  return out;
}

void append_run_table(const SweepRuns& runs, const RunStates& states, std::string& out) {
  const std::vector<std::string> header = {"#", "run key", "configuration", "repeat", "state"};
  char buffer[24];
  const size_t last_repeat = static_cast<size_t>(runs.repeat(runs.size() - 1));
  TableWriter table({std::max(header[0].size(), decimal(runs.size(), buffer).size()),
                     std::max<size_t>(header[1].size(), 16),
                     std::max(header[2].size(), states.swept_width),
                     std::max(header[3].size(), decimal(last_repeat, buffer).size()),
                     std::max(header[4].size(), states.state_width)});
  // About 100 bytes a row: one buffer, one write.
  out.reserve(out.size() + runs.size() * (states.swept_width + states.state_width + 48));
  table.header(header, out);
  std::string swept;
  char repeat[24];
  for (size_t run = 0; run < runs.size(); ++run) {
    swept.clear();
    runs.append_swept_text(run, swept);
    table.row({decimal(run + 1, buffer), runs.key(run), swept,
               decimal(static_cast<size_t>(runs.repeat(run)), repeat), *states.states[run]},
              out);
  }
}

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

// "reals 1e-05 .. 0.1, log scale", "integers 16 .. 256, step 16", "one of 16, 32, 64"
std::string describe_dimension(const Dimension& dimension, const SweepAxis& axis) {
  if (dimension.kind == Dimension::Kind::kCategorical) {
    std::string values;
    for (size_t i = 0; i < axis.size(); ++i) {
      std::string value;
      for (const auto& key : axis.keys) {
        value += (value.empty() ? "" : "/") + to_toml(key.values[i].value);
      }
      values += (i ? ", " : "") + value;
    }
    return "one of " + values;
  }
  std::string out = dimension.kind == Dimension::Kind::kInteger ? "integers " : "reals ";
  out += number_text(dimension.low) + " .. " + number_text(dimension.high);
  if (dimension.log) out += ", log scale";
  if (dimension.step > 0) out += ", step " + number_text(dimension.step);
  return out;
}

// The epochs at which the search's pruner judges a run. The last epoch is never pruned: a
// run that reaches it has finished.
std::vector<int> prune_epochs(const Experiment& experiment) {
  if (experiment.search.prune.rule == PruneRule::kNone) return {};
  std::int64_t epochs = 1;
  auto given = experiment.sections.at("train").values.find("epochs");
  if (given != experiment.sections.at("train").values.end()) {
    if (auto* value = std::get_if<std::int64_t>(&given->second.value)) epochs = *value;
  }
  return rungs_before_the_end(experiment.search.prune, static_cast<int>(epochs));
}

// "bayes search, up to 24 points, seed 1; prune asha: rungs at epochs 1, 3"
std::string describe_search(const Experiment& experiment) {
  const SearchSettings& search = experiment.search;
  std::string out = std::string(strategy_word(search.strategy)) + " search, up to ";
  if (search.max_runs > 0) out += std::to_string(search.max_runs) + " points";
  if (search.max_runs > 0 && search.max_seconds > 0) out += " or ";
  if (search.max_seconds > 0) out += number_text(search.max_seconds) + " s";
  out += ", seed " + std::to_string(search.seed);
  if (search.prune.rule == PruneRule::kNone) return out + "; no pruning";
  out += "; prune " + std::string(prune_word(search.prune.rule)) + " on " +
         experiment.objective.metric + ", at epochs";
  const std::vector<int> at = prune_epochs(experiment);
  for (size_t i = 0; i < at.size(); ++i) out += (i ? ", " : " ") + std::to_string(at[i]);
  if (at.empty()) return out + " (none: train.epochs leaves no epoch before the last)";
  return search.prune.promote ? out +
                                    " (runs that fall behind pause there, and go on when "
                                    "the runs after them put them among the best)"
                              : out;
}

// The swept text of the sampler's first points, before it has learned from any run; ""
// for a point a rule excludes (the search samples again).
std::vector<std::string> first_points(const Experiment& experiment, const SearchSpace& space) {
  const auto sampler = make_sampler(experiment.search.strategy, space, experiment.search.seed);
  const size_t count = experiment.search.max_runs > 0
                           ? std::min<size_t>(8, static_cast<size_t>(experiment.search.max_runs))
                           : 8;
  std::vector<std::string> points;
  for (size_t index = 0; index < count; ++index) {
    const auto runs = runs_of_point(experiment, space, sampler->suggest({}, index));
    points.push_back(runs.empty() ? "" : runs.front().swept_text());
  }
  return points;
}

size_t points_tried(const Experiment& experiment, const std::string& db_path) {
  auto store = storage::Store::OpenForReading(db_path);
  return store ? store->search_points(experiment.name).size() : 0;
}

// What `orch plan` says of a sampled search: the space, the strategy and its budget, and
// the sampler's first points.
std::string search_plan_text(const Experiment& experiment, const SearchSpace& space, size_t tried,
                             const std::vector<std::string>& points) {
  std::string out = "experiment '" + experiment.name + "': " + describe_search(experiment) + "\n" +
                    describe_plugins(experiment) + "\nspace (" +
                    std::to_string(space.dimensions.size()) + " swept axes):\n";
  size_t name_width = 0;
  for (const auto& dimension : space.dimensions) {
    name_width = std::max(name_width, dimension.name.size());
  }
  for (size_t i = 0; i < space.dimensions.size(); ++i) {
    const Dimension& dimension = space.dimensions[i];
    out += "  " + dimension.name + std::string(name_width + 2 - dimension.name.size(), ' ') +
           describe_dimension(dimension, experiment.sweep[i]) + "\n";
  }
  if (tried > 0) {
    out += std::to_string(tried) + " point(s) of this search were tried already (orch run " +
           "goes on from them; orch report shows them)\n";
  }
  out += "\nfirst points, before the sampler has learned from any run:\n";
  for (size_t i = 0; i < points.size(); ++i) {
    out += "  " + std::to_string(i + 1) + "  " +
           (points[i].empty() ? std::string("(excluded by a rule: the search samples again)")
                              : points[i]) +
           "\n";
  }
  return out;
}

void print(const std::string& out) { std::fwrite(out.data(), 1, out.size(), stdout); }

}  // namespace

int plan_command(const Options& options) {
  PreparedPlan prepared = prepare_plan(options);
  const Experiment& experiment = *prepared.experiment;
  if (experiment.search.samples()) {
    const SearchSpace space = search_space(experiment);
    const size_t tried = points_tried(experiment, options.db_path);
    const std::vector<std::string> points = first_points(experiment, space);
    print(options.json
              ? render_search_plan_json(experiment, space, prune_epochs(experiment), tried, points)
              : search_plan_text(experiment, space, tried, points));
    return 0;
  }
  const SweepRuns& runs = *prepared.runs;
  RunStates states;
  judge_runs(prepared, finished_keys(options.db_path, experiment.name), states);
  // batch_size = "auto": the probe decides the sizes, so there is nothing to forecast yet.
  std::optional<std::vector<MemoryForecast>> memory;
  if (!experiment.auto_batch_size) memory = memory_forecasts(runs, options.db_path);
  if (options.json) {
    print(render_plan_json(experiment, runs, states.states, memory));
    return 0;
  }
  std::string out = plan_heading(experiment, runs, states.pending);
  append_run_table(runs, states, out);
  if (!experiment.auto_batch_size) out += "\n" + memory_text(memory, options.db_path);
  print(out);
  return 0;
}

}  // namespace orch
