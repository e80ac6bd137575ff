#include "host/run/run_key.h"

#include "host/run/value_text.h"

namespace orch {
// FNV-1a continued over `text` from `hash`: the hash of a text is the hash of its pieces in
// turn, so a key is hashed from precomputed lines without joining them.
std::uint64_t fnv1a(std::uint64_t hash, const std::string& text) {
  for (unsigned char c : text) {
    hash ^= c;
    hash *= kFnvPrime;
  }
  return hash;
}

// "%016llx", without printf: a plan prints 100,000 of them.
std::string hex16(std::uint64_t hash) {
  static const char kDigits[] = "0123456789abcdef";
  std::string hex(16, '0');
  for (size_t i = 16; i-- > 0; hash >>= 4) hex[i] = kDigits[hash & 0xf];
  return hex;
}

// "experiment.seed=..\nrepeat=..\n": what a run key hashes after the canonical lines.
std::string key_suffix(std::int64_t seed, int repeat) {
  return "experiment.seed=" + std::to_string(seed) + "\n" + "repeat=" + std::to_string(repeat) +
         "\n";
}

namespace {

// "key=value" lines of every resolved parameter: what a run key hashes.
std::string canonical_lines(const std::vector<std::pair<std::string, Value>>& flat_params) {
  std::string canonical;
  for (const auto& [key, value] : flat_params) {
    if (in_run_key(key)) canonical += key + "=" + to_toml(value) + "\n";
  }
  return canonical;
}

std::string keyed(const std::string& canonical, std::int64_t seed, int repeat) {
  return stable_hash(canonical + key_suffix(seed, repeat));
}

}  // namespace

std::string run_key(const std::vector<std::pair<std::string, Value>>& flat_params,
                    std::int64_t seed, int repeat) {
  return keyed(canonical_lines(flat_params), seed, repeat);
}

std::string stable_hash(const std::string& text) { return hex16(fnv1a(kFnvOffset, text)); }

bool in_run_key(const std::string& flat_key) {
  // Where results are kept and how a run survives interruptions, not what it measures.
  return flat_key != "train.save" && flat_key != "train.checkpoint" &&
         flat_key != "train.keep_checkpoints" && flat_key != "train.checkpoint_disk";
}

namespace {

const char* const kNotMemory[] = {"train.batch_size",
                                  "train.accumulation_steps",
                                  "train.epochs",
                                  "train.lr",
                                  "train.warmup_steps",
                                  "train.timeout",
                                  "train.on_oom",
                                  "train.memory_limit",
                                  "train.mode",
                                  "train.min_steps",
                                  "train.max_steps",
                                  "train.target_rel_ci",
                                  "train.weight_decay",
                                  "train.beta1",
                                  "train.beta2",
                                  "train.lr_schedule",
                                  "train.lr_step_epochs",
                                  "train.lr_gamma",
                                  "train.lr_min",
                                  "train.lr_pct_start",
                                  "train.lr_div_factor",
                                  "train.lr_final_div_factor",
                                  "train.grad_clip",
                                  "train.checkpoint",
                                  "train.keep_checkpoints",
                                  "train.checkpoint_disk"};

}  // namespace

bool changes_memory(const std::string& key) {
  for (const char* name : kNotMemory) {
    if (key == name) return false;
  }
  return true;
}

std::string memory_key(const RunSpec& run) {
  std::string canonical;
  for (const auto& [key, value] : run.flat_params()) {
    if (changes_memory(key)) canonical += key + "=" + to_toml(value) + "\n";
  }
  return stable_hash(canonical);
}

void settle_auto_batch_size(RunSpec& run, std::int64_t batch_size) {
  run.set_train("batch_size", batch_size);
  run.swept.insert(run.swept.begin(), {"train.batch_size", batch_size});
  run.key = run_key(run.flat_params(), run.seed, run.repeat);
  run.config_key = run_key(run.flat_params(), run.seed - run.repeat, 0);
}

}  // namespace orch
