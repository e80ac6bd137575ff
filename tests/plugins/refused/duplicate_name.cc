// Claims the model name "mlp", which the built-in plugin already has, next to a model
// with a name of its own that must stay usable.
#include <orch/orch.h>

ORCH_PLUGIN("duplicate", "0.1.0") {
  auto never_built = [](const orch::Params&, const orch::DatasetInfo&) {
    return std::unique_ptr<orch::Model>();
  };
  registry.add_model("mlp", {}, never_built);
  registry.add_model("fixture_unique", {orch::ParamSpec::Int("width", 3, "unused")}, never_built);
}
