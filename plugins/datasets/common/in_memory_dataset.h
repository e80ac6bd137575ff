// The base of a dataset whose two splits are whole tensors in memory: the subclass makes
// them in its constructor and says what a sample is; sizes and batches come from here.
#pragma once

#include <orch/dataset.h>

#include "common/tensor_split.h"

namespace orch_datasets {

class InMemoryDataset : public orch::Dataset {
 public:
  // describe(), with the sizes of the splits.
  orch::DatasetInfo info() const final {
    orch::DatasetInfo info = describe();
    info.train_size = train_.size();
    info.val_size = val_.size();
    return info;
  }

  // The samples at `indices`, as stored. A subclass that stores them compactly (bytes,
  // say) overrides this and converts what InMemoryDataset::batch gives.
  orch::Batch batch(orch::Split split, const torch::Tensor& indices) override {
    return (split == orch::Split::kTrain ? train_ : val_).select(indices);
  }

 protected:
  // What a sample is: everything in DatasetInfo but the sizes of the splits.
  virtual orch::DatasetInfo describe() const = 0;

  // Made by the subclass's constructor.
  TensorSplit train_, val_;
};

}  // namespace orch_datasets
