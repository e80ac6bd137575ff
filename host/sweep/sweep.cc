// SweepRuns: the product walked once, with every text a run key and swept_text need made
// once per plugin choice instead of once per run; plan_sweep builds a RunSpec per run
// from it.
#include "host/sweep/sweep.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "host/base/user_error.h"
#include "host/run/run_key.h"
#include "host/run/value_text.h"
#include "host/sweep/param_check.h"
#include "host/sweep/sweep_choice.h"
#include "host/sweep/sweep_resolve.h"
#include "host/sweep/sweep_rules.h"

namespace orch {

using sweep_choice::build_choice;
using sweep_choice::Choice;
using sweep_choice::Slot;

struct SweepRuns::Layout {
  // A configuration: a combination that is run, and the hash of its canonical lines.
  struct Config {
    std::uint32_t combination;
    std::uint32_t choice;
    std::uint64_t canonical;
  };

  explicit Layout(const Experiment& exp) : experiment(exp), resolver(exp) {}

  const Experiment& experiment;
  mutable SectionResolver resolver;
  std::vector<size_t> radix;                           // the size of each axis
  std::vector<std::pair<size_t, size_t>> plugin_axes;  // axis, its weight in a choice code
  std::unordered_map<size_t, std::uint32_t> choice_of_code;
  std::vector<Choice> choices;
  std::vector<Config> configs;
  std::vector<std::string> suffixes;  // key_suffix of each repeat
  SweepCounts counts;
  std::vector<std::string> warnings;

  void digits_of(size_t combination, std::vector<size_t>& digits) const {
    for (size_t i = radix.size(); i-- > 0;) {
      digits[i] = combination % radix[i];
      combination /= radix[i];
    }
  }

  std::uint32_t choice_for(const std::vector<size_t>& digits) {
    size_t code = 0;
    for (const auto& [axis, weight] : plugin_axes) code += digits[axis] * weight;
    auto found = choice_of_code.find(code);
    if (found != choice_of_code.end()) return found->second;
    auto index = static_cast<std::uint32_t>(choices.size());
    choices.push_back(build_choice(experiment, resolver, digits));
    choice_of_code.emplace(code, index);
    return index;
  }

  // The canonical hashes of `count` combinations of one choice (digits[k] for each). FNV-1a
  // is one multiply per byte, each waiting for the last: hashing kLanes runs side by side
  // over the text they share keeps the multiplier busy, about 4x faster than one by one.
  static constexpr size_t kLanes = 8;
  void canonical_hashes(const Choice& choice, const std::vector<size_t>* digits, size_t count,
                        std::uint64_t* out) const {
    std::uint64_t hash[kLanes];
    for (size_t k = 0; k < kLanes; ++k) hash[k] = kFnvOffset;
    for (const auto& segment : choice.canonical) {
      if (segment.slot < 0 && count == kLanes) {
        for (unsigned char c : segment.fixed) {
          for (size_t k = 0; k < kLanes; ++k) hash[k] = (hash[k] ^ c) * kFnvPrime;
        }
      } else if (segment.slot < 0) {
        for (size_t k = 0; k < count; ++k) hash[k] = fnv1a(hash[k], segment.fixed);
      } else {
        const Slot& slot = choice.slots[segment.slot];
        for (size_t k = 0; k < count; ++k) {
          hash[k] = fnv1a(hash[k], slot.lines[digits[k][slot.axis]]);
        }
      }
    }
    for (size_t k = 0; k < count; ++k) out[k] = hash[k];
  }

  // The size of each axis, which axes choose plugins, and each repeat's key suffix.
  void lay_out_axes() {
    const auto& axes = experiment.sweep;
    counts.combinations = product_of(experiment);
    counts.excluded_by_rule.assign(experiment.exclusions.size(), 0);
    for (const auto& axis : axes) radix.push_back(axis.size());
    size_t weight = 1;
    for (size_t i = axes.size(); i-- > 0;) {
      bool sweeps_plugin = false;
      for (const auto& key : axes[i].keys) sweeps_plugin = sweeps_plugin || key.param == "plugin";
      if (!sweeps_plugin) continue;
      plugin_axes.emplace_back(i, weight);
      weight *= radix[i];
    }
    for (std::int64_t repeat = 0; repeat < experiment.repeats; ++repeat) {
      suffixes.push_back(key_suffix(experiment.seed + repeat, static_cast<int>(repeat)));
    }
  }

  // Nothing left to run is an error; a rule that removed nothing is a warning.
  void check_the_rules() {
    if (configs.empty()) {
      std::string lines;
      for (const auto& rule : experiment.exclusions) {
        lines += (lines.empty() ? "" : ", ") + std::to_string(rule.line);
      }
      throw UserError(experiment.file + ": the [[sweep.exclude]] rules (at line " + lines +
                      ") remove all " + std::to_string(counts.combinations) +
                      " combinations, so nothing would run; loosen or remove a rule");
    }
    for (size_t r = 0; r < experiment.exclusions.size(); ++r) {
      if (counts.excluded_by_rule[r] > 0) continue;
      const auto& rule = experiment.exclusions[r];
      warnings.push_back(rule.at + ": the [[sweep.exclude]] rule at line " +
                         std::to_string(rule.line) +
                         " removes no combination; check its keys and values against the "
                         "sweep, or remove it");
    }
  }

  void expand() {
    lay_out_axes();
    const auto& axes = experiment.sweep;
    std::unordered_set<std::uint64_t> seen;  // config keys, as numbers
    seen.reserve(counts.combinations);
    configs.reserve(counts.combinations);
    // Combinations that are run wait in a batch of one choice to be hashed together, then
    // are kept in order unless an earlier one resolved alike.
    std::vector<size_t> batch_digits[kLanes];
    std::uint32_t batch_combination[kLanes];
    std::uint64_t batch_hash[kLanes];
    size_t batched = 0;
    std::uint32_t batch_choice = 0;
    auto flush = [&] {
      canonical_hashes(choices[batch_choice], batch_digits, batched, batch_hash);
      for (size_t k = 0; k < batched; ++k) {
        // Two combinations can resolve alike: a per-plugin key that does not apply to
        // this run's plugin, or a value listed twice.
        if (!seen.insert(fnv1a(batch_hash[k], suffixes.front())).second) {
          ++counts.duplicates;
          continue;
        }
        configs.push_back({batch_combination[k], batch_choice, batch_hash[k]});
      }
      batched = 0;
    };

    // Odometer over the axes: digit i picks a value of axis i, the last digit turns fastest.
    std::vector<size_t> digits(axes.size(), 0);
    for (size_t combination = 0; combination < counts.combinations; ++combination) {
      if (combination > 0) {
        for (size_t i = digits.size(); i-- > 0;) {
          if (++digits[i] < radix[i]) break;
          digits[i] = 0;
        }
      }
      const std::uint32_t index = choice_for(digits);
      const Choice& choice = choices[index];
      bool excluded = false;
      for (size_t r = 0; r < choice.rules.size(); ++r) {
        if (choice.rules[r].matches(digits)) {
          ++counts.excluded_by_rule[r];
          excluded = true;
        }
      }
      if (excluded) {
        ++counts.excluded;
        continue;
      }
      if (choice.foreign) {
        // The message names the run: resolve it the slow way, which throws.
        check_plugins_take_their_values(experiment, resolve(experiment, digits, resolver),
                                        resolver);
      }
      if (batched > 0 && index != batch_choice) flush();
      batch_choice = index;
      batch_digits[batched] = digits;
      batch_combination[batched] = static_cast<std::uint32_t>(combination);
      if (++batched == kLanes) flush();
    }
    if (batched > 0) flush();
    check_the_rules();
  }

  // Repeats are the outer loop so that a slow drift of the machine spreads over every
  // configuration instead of landing on one.
  const Config& config_of(size_t run) const { return configs[run % configs.size()]; }
  int repeat_of(size_t run) const { return static_cast<int>(run / configs.size()); }

  RunSpec resolved(const Config& config) const {
    std::vector<size_t> digits(radix.size());
    digits_of(config.combination, digits);
    return resolve(experiment, digits, resolver).run;
  }

  void number(RunSpec& spec, size_t run) const {
    const Config& config = config_of(run);
    spec.index = static_cast<int>(run);
    spec.repeat = repeat_of(run);
    spec.seed = experiment.seed + spec.repeat;
    spec.key = hex16(fnv1a(config.canonical, suffixes[spec.repeat]));
    spec.config_key = hex16(fnv1a(config.canonical, suffixes.front()));
    spec.read_train();  // with the repeat's seed
  }
};

SweepRuns::SweepRuns(const Experiment& experiment) : layout_(std::make_unique<Layout>(experiment)) {
  layout_->expand();
}
SweepRuns::~SweepRuns() = default;
SweepRuns::SweepRuns(SweepRuns&&) noexcept = default;
SweepRuns& SweepRuns::operator=(SweepRuns&&) noexcept = default;

size_t SweepRuns::size() const { return layout_->configs.size() * layout_->suffixes.size(); }
const SweepCounts& SweepRuns::counts() const { return layout_->counts; }
const std::vector<std::string>& SweepRuns::warnings() const { return layout_->warnings; }
int SweepRuns::repeat(size_t run) const { return layout_->repeat_of(run); }

std::string SweepRuns::key(size_t run) const {
  return hex16(fnv1a(layout_->config_of(run).canonical, layout_->suffixes[repeat(run)]));
}

size_t SweepRuns::plugin_choice(size_t run) const { return layout_->config_of(run).choice; }

void SweepRuns::append_swept_text(size_t run, std::string& out) const {
  const Layout& layout = *layout_;
  const Layout::Config& config = layout.config_of(run);
  std::vector<size_t> digits(layout.radix.size());
  layout.digits_of(config.combination, digits);
  bool first = true;
  for (const auto& piece : layout.choices[config.choice].swept) {
    if (!first) out += ' ';
    out += piece.text[digits[piece.axis]];
    first = false;
  }
  if (first) out += '-';
}

size_t SweepRuns::swept_text_size(size_t run) const {
  const Layout& layout = *layout_;
  const Layout::Config& config = layout.config_of(run);
  std::vector<size_t> digits(layout.radix.size());
  layout.digits_of(config.combination, digits);
  const auto& pieces = layout.choices[config.choice].swept;
  if (pieces.empty()) return 1;
  size_t size = pieces.size() - 1;
  for (const auto& piece : pieces) size += piece.text[digits[piece.axis]].size();
  return size;
}

RunSpec SweepRuns::spec(size_t run) const {
  RunSpec out = layout_->resolved(layout_->config_of(run));
  layout_->number(out, run);
  return out;
}

std::vector<RunSpec> SweepRuns::specs() const {
  const Layout& layout = *layout_;
  std::vector<RunSpec> configurations;
  configurations.reserve(layout.configs.size());
  for (const auto& config : layout.configs) configurations.push_back(layout.resolved(config));
  std::vector<RunSpec> out;
  out.reserve(size());
  for (size_t run = 0; run < size(); ++run) {
    const bool last = run + configurations.size() >= size();
    RunSpec& configuration = configurations[run % configurations.size()];
    out.push_back(last ? std::move(configuration) : configuration);
    layout.number(out.back(), run);
  }
  return out;
}

std::vector<RunSpec> SweepRuns::train_witnesses(const std::set<std::string>& read) const {
  const Layout& layout = *layout_;
  const auto& axes = layout.experiment.sweep;
  // Only the axes that set a key in `read` change what the checks see: their digits say
  // which values a configuration has (two signatures may still resolve alike; harmless).
  std::vector<std::pair<size_t, size_t>> train_axes;  // axis, weight
  size_t weight = 1;
  for (size_t i = axes.size(); i-- > 0;) {
    bool sets_a_read_key = false;
    for (const auto& key : axes[i].keys) {
      sets_a_read_key = sets_a_read_key || (key.section == "train" && read.count(key.param) > 0);
    }
    if (!sets_a_read_key) continue;
    train_axes.emplace_back(i, weight);
    weight *= layout.radix[i];
  }
  std::unordered_map<size_t, size_t> span_of;    // signature -> index in spans
  std::vector<std::pair<size_t, size_t>> spans;  // first and last configuration
  std::vector<size_t> digits(layout.radix.size());
  for (size_t c = 0; c < layout.configs.size(); ++c) {
    layout.digits_of(layout.configs[c].combination, digits);
    size_t signature = 0;
    for (const auto& [axis, w] : train_axes) signature += digits[axis] * w;
    auto [found, fresh] = span_of.emplace(signature, spans.size());
    if (fresh) {
      spans.emplace_back(c, c);
    } else {
      spans[found->second].second = c;
    }
  }
  std::vector<size_t> lasts;
  for (const auto& span : spans) lasts.push_back(span.second);
  std::sort(lasts.begin(), lasts.end());

  std::vector<RunSpec> out;
  for (const auto& span : spans) out.push_back(spec(span.first));
  // When the last runs come in the order of the first ones, the last first run of a kind
  // has the values of the last run of that kind: the first runs are witness enough.
  bool same_order = true;
  for (size_t i = 0; i < spans.size(); ++i) same_order = same_order && lasts[i] == spans[i].second;
  if (same_order) return out;
  const size_t last_repeat = (layout.suffixes.size() - 1) * layout.configs.size();
  for (size_t c : lasts) out.push_back(spec(last_repeat + c));
  return out;
}

SweepPlan plan_sweep(const Experiment& experiment) {
  SweepRuns runs(experiment);
  return {runs.specs(), runs.counts(), runs.warnings()};
}

std::vector<RunSpec> expand_sweep(const Experiment& experiment) {
  return plan_sweep(experiment).runs;
}

}  // namespace orch
