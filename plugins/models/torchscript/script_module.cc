#include "torchscript/script_module.h"

#include <filesystem>
#include <stdexcept>

namespace orch_models {
namespace {

const char* kHowToExport =
    "export the model from Python with\n"
    "    scripted = torch.jit.script(model)   # or torch.jit.trace(model, example_inputs)\n"
    "    scripted.save(\"net.pt\")";

// "body.0.weight" cannot be a name in torch::nn::Module; "body__0__weight" can.
std::string local_name(const std::string& dotted) {
  std::string name;
  for (char c : dotted) name += c == '.' ? std::string("__") : std::string(1, c);
  return name;
}

}  // namespace

ScriptModule::ScriptModule(torch::jit::Module scripted) : scripted_(std::move(scripted)) {
  for (const auto& parameter : scripted_.named_parameters(/*recurse=*/true)) {
    register_parameter(local_name(parameter.name), parameter.value,
                       parameter.value.requires_grad());
  }
  for (const auto& buffer : scripted_.named_buffers(/*recurse=*/true)) {
    register_buffer(local_name(buffer.name), buffer.value);
  }
  scripted_.train(true);
}

void ScriptModule::train(bool on) {
  torch::nn::Module::train(on);
  scripted_.train(on);
}

std::shared_ptr<ScriptModule> load_script_module(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) {
    throw std::invalid_argument(path + ": no such file; " + kHowToExport);
  }
  torch::jit::Module scripted;
  try {
    scripted = torch::jit::load(path, torch::kCPU);
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    if (what.find("constants.pkl") != std::string::npos) {
      throw std::invalid_argument(
          path +
          " was written by torch.save (a state_dict or a whole nn.Module), which "
          "only Python can rebuild; orch needs a TorchScript file: " +
          kHowToExport);
    }
    throw std::invalid_argument(path + " is not a TorchScript file (" + first_line(what) + "); " +
                                kHowToExport);
  }
  if (!scripted.find_method("forward")) {
    throw std::invalid_argument(path + ": the module has no forward method; " + kHowToExport);
  }
  return std::make_shared<ScriptModule>(std::move(scripted));
}

std::vector<std::string> forward_inputs(const torch::jit::Module& scripted,
                                        const orch::DatasetInfo& data, const std::string& path) {
  const auto& arguments = scripted.get_method("forward").function().getSchema().arguments();
  std::vector<std::string> inputs;
  bool inputs_taken = false;
  std::string offered = "inputs";
  for (const auto& [name, shape] : data.extra_input_shapes) offered += ", " + name;
  for (size_t i = 1; i < arguments.size(); ++i) {  // 0 is self
    const std::string& name = arguments[i].name();
    if (data.extra_input_shapes.count(name)) {
      inputs.push_back(name);
    } else if (!inputs_taken) {
      inputs.push_back("");
      inputs_taken = true;
    } else if (arguments[i].default_value()) {
      break;  // left to its default, and so is every later argument
    } else {
      throw std::invalid_argument(path + ": forward's argument '" + name +
                                  "' is not an input the dataset has (it has " + offered +
                                  "); name the argument after one of the dataset's extra inputs");
    }
  }
  if (inputs.empty()) {
    throw std::invalid_argument(path +
                                ": forward takes no argument; it needs the dataset's "
                                "inputs (" +
                                offered + ")");
  }
  return inputs;
}

orch::Batch zero_batch(const orch::DatasetInfo& data, std::int64_t samples, torch::Dtype dtype) {
  auto shaped = [samples](const std::vector<std::int64_t>& shape) {
    std::vector<std::int64_t> sizes{samples};
    sizes.insert(sizes.end(), shape.begin(), shape.end());
    return sizes;
  };
  orch::Batch batch;
  batch.inputs = torch::zeros(shaped(data.input_shape), dtype);
  for (const auto& [name, shape] : data.extra_input_shapes) {
    batch.extra_inputs[name] = torch::zeros(shaped(shape), dtype);
  }
  return batch;
}

std::vector<std::int64_t> output_shape_for(const orch::DatasetInfo& data, std::int64_t samples) {
  switch (data.task) {
    case orch::Task::kClassification:
      return {samples, data.classes};
    case orch::Task::kBinary:
      return {samples};
    case orch::Task::kSegmentation: {
      std::vector<std::int64_t> shape{samples, 1};
      shape.insert(shape.end(), data.input_shape.begin() + 1, data.input_shape.end());
      return shape;
    }
    case orch::Task::kMultiTask:
    case orch::Task::kRegression:
      break;
  }
  return {};
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace orch_models
