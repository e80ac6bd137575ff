// A TorchScript module seen as a torch::nn::Module, so orch's trainer treats it like any C++
// model: its parameters and buffers are the scripted module's own tensors (registered
// here, not copied), so the optimizer, .to(device) and the train/eval switch reach them.
#pragma once

#include <orch/orch.h>
#include <torch/script.h>

#include <memory>
#include <string>
#include <vector>

namespace orch_models {

class ScriptModule : public torch::nn::Module {
 public:
  explicit ScriptModule(torch::jit::Module scripted);
  torch::jit::Module& scripted() { return scripted_; }
  // Dropout and BatchNorm inside the scripted module follow the trainer's switch.
  void train(bool on = true) override;

 private:
  torch::jit::Module scripted_;
};

// Loads `path`, refusing in one sentence what is not a TorchScript file: a missing file,
// a state_dict or whole model saved with torch.save (the common mistake, shown with the two
// lines that export one), or another file.
std::shared_ptr<ScriptModule> load_script_module(const std::string& path);

// What each argument of forward() takes: "" for the dataset's inputs, otherwise the name of
// one of its extra inputs. Refuses a forward whose arguments the dataset cannot fill.
std::vector<std::string> forward_inputs(const torch::jit::Module& scripted,
                                        const orch::DatasetInfo& data, const std::string& path);

// `samples` zero samples shaped like the dataset's (targets are left empty).
orch::Batch zero_batch(const orch::DatasetInfo& data, std::int64_t samples,
                       torch::Dtype dtype = torch::kFloat);

// The output shape the task's loss needs for `samples` samples; empty when it cannot be
// told from the dataset's description (regression targets, multi-task).
std::vector<std::int64_t> output_shape_for(const orch::DatasetInfo& data, std::int64_t samples);

std::string first_line(const std::string& text);

}  // namespace orch_models
