// "synthetic_sequences": sequences of token feature vectors (like the hidden states a
// transformer sees) with several labels each. Every token is a row of a fixed random
// vocabulary; for each task, a pattern vector belonging to that task's label is added to
// a few random tokens, so every label can be read from the sequence.
//
// Stored compactly (token ids and pattern positions) and assembled per batch: with the
// default 192 x 768 features a dense sample would take 590 KB, the whole set gigabytes.
#include "synthetic/synthetic.h"

namespace orch_datasets::synthetic {
namespace {

struct Split {
  torch::Tensor tokens;   // [samples, seq_len] int32 vocabulary rows
  torch::Tensor marked;   // [samples, tasks, marks] int64 positions that carry the task's pattern
  torch::Tensor targets;  // [samples, tasks] int64
  std::int64_t size() const { return tokens.size(0); }
};

class SequencesDataset : public orch::Dataset {
 public:
  explicit SequencesDataset(const orch::Params& params)
      : seq_len_(params.Int("seq_len")),
        features_(params.Int("features")),
        tasks_(params.Int("tasks")),
        classes_(params.Int("classes")),
        vocabulary_(params.Int("vocabulary")),
        marks_(std::min(params.Int("marks"), seq_len_)) {
    auto generator = make_generator(params.Int("seed"));
    embeddings_ = torch::randn({vocabulary_, features_}, generator);
    // Row task * classes + class.
    patterns_ = torch::randn({tasks_ * classes_, features_}, generator) * params.Real("strength");
    train_ = make_split(params.Int("samples"), generator);
    val_ = make_split(params.Int("val_samples"), generator);
  }

  orch::DatasetInfo info() const override {
    orch::DatasetInfo info;
    info.input_shape = {seq_len_, features_};
    info.classes = classes_;
    info.task = orch::Task::kMultiTask;
    info.task_classes.assign(tasks_, classes_);
    info.train_size = train_.size();
    info.val_size = val_.size();
    return info;
  }

  orch::Batch batch(orch::Split split, const torch::Tensor& indices) override {
    const Split& data = split == orch::Split::kTrain ? train_ : val_;
    std::int64_t n = indices.size(0);
    auto ids = data.tokens.index_select(0, indices).to(torch::kLong).view(-1);
    auto inputs = embeddings_.index_select(0, ids).view({n, seq_len_, features_});
    auto targets = data.targets.index_select(0, indices);
    auto pattern_rows = targets + torch::arange(tasks_, torch::kLong).unsqueeze(0) * classes_;
    // Row b * seq_len + position of every marked token, and the pattern added to it.
    auto rows = data.marked.index_select(0, indices) +
                torch::arange(n, torch::kLong).view({n, 1, 1}) * seq_len_;
    auto patterns = patterns_.index_select(0, pattern_rows.view(-1))
                        .view({n, tasks_, 1, features_})
                        .expand({n, tasks_, marks_, features_});
    inputs.view({n * seq_len_, features_})
        .index_add_(0, rows.view(-1), patterns.reshape({-1, features_}));
    return {inputs, targets, {}};
  }

 private:
  Split make_split(std::int64_t samples, at::Generator& generator) const {
    Split split;
    split.targets = torch::empty({samples, tasks_}, torch::kLong);
    for (std::int64_t t = 0; t < tasks_; ++t) {
      split.targets.select(1, t).copy_(balanced_labels(samples, classes_, generator));
    }
    split.tokens = torch::randint(0, vocabulary_, {samples, seq_len_}, generator, torch::kInt);
    // `marks` distinct positions per sample and task: the first ones of a random order.
    auto order = torch::rand({samples, tasks_, seq_len_}, generator)
                     .argsort(/*dim=*/2, /*descending=*/false);
    split.marked = order.narrow(2, 0, marks_).contiguous();
    return split;
  }

  std::int64_t seq_len_, features_, tasks_, classes_, vocabulary_, marks_;
  torch::Tensor embeddings_, patterns_;
  Split train_, val_;
};

}  // namespace

void add_sequences(orch::Registry& registry) {
  using orch::ParamSpec;
  registry.add_dataset<SequencesDataset>(
      "synthetic_sequences",
      {ParamSpec::Int("samples", 4096, "training sequences").range(1, 10000000),
       ParamSpec::Int("val_samples", 1024, "validation sequences").range(1, 10000000),
       ParamSpec::Int("seq_len", 192, "tokens per sequence").range(1, 65536),
       ParamSpec::Int("features", 768, "features per token (BERT-base width)").range(1, 65536),
       ParamSpec::Int("tasks", 3, "labels per sequence, one per task").range(1, 64),
       ParamSpec::Int("classes", 4, "classes of every task").range(2, 1000),
       ParamSpec::Int("vocabulary", 1024, "distinct random token vectors").range(1, 1000000),
       ParamSpec::Int("marks", 4, "tokens per task that carry the label's pattern").range(1, 65536),
       ParamSpec::Real("strength", 0.2,
                       "standard deviation of a label pattern; token vectors have 1")
           .range(0, 1000),
       ParamSpec::Int("seed", 0, "seed of the generated data").at_least(0)});
}

}  // namespace orch_datasets::synthetic
