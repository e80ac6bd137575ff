// One run of a sweep: every parameter resolved, and the key that identifies it.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "host/run/train_options.h"
#include "orch/params.h"

namespace orch {

// A section resolved for one run: the plugin, and every parameter it declares with the
// defaults filled in. [train] has no plugin.
struct Section {
  std::string plugin;
  std::map<std::string, Value> values;
};

struct RunSpec {
  int index = 0;   // position in the sweep, 0-based
  int repeat = 0;  // 0 .. repeats-1
  std::int64_t seed = 0;
  std::map<std::string, Section> sections;  // backend, dataset, model, train
  // sections["train"] typed, read once when the run is resolved: what the scheduler, the
  // probe and the worker act on. Change a [train] value with set_train, which keeps both.
  TrainOptions train;
  std::vector<std::pair<std::string, Value>> swept;  // "train.batch_size" -> 4
  std::string key;         // stable hash of the resolved parameters, seed and repeat
  std::string config_key;  // the same without the repeat: shared by a configuration's repeats
  // Where the worker saves the trained weights; set by the scheduler when train.save asks.
  std::string weights_path;
  // Checkpoints (train.checkpoint), set by the scheduler: the worker saves them as
  // "<checkpoint_prefix>-e<epoch>.pt", and starts from `resume_from` when it is set.
  std::string checkpoint_prefix;
  std::string resume_from;
  // Epochs after which the worker saves a checkpoint whatever train.checkpoint says: the
  // rungs where ASHA may pause the run to take it up later ([search] promote = true).
  std::vector<int> checkpoint_epochs;

  Params params(const std::string& section) const { return Params(sections.at(section).values); }
  const std::string& plugin(const std::string& section) const {
    return sections.at(section).plugin;
  }
  // Sets [train] `name` (a declared key, of its declared type) and the typed view. The
  // keys stay as they were: a retry or a probe trial is the same point of the sweep.
  void set_train(const std::string& name, Value value);
  // Reads `train` from sections["train"] and the seed (the sweep does, once per run).
  void read_train();
  // Every resolved parameter as "section.name" -> value, including "model.plugin".
  std::vector<std::pair<std::string, Value>> flat_params() const;
  // "train.batch_size=4 train.epochs=2" (or "-" for a sweep of one).
  std::string swept_text() const;
};

}  // namespace orch
