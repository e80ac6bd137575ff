// Parameters the host itself owns: the [experiment] and [train] sections. They are
// declared and validated exactly like a plugin's, so the file format stays uniform.
#pragma once

#include "orch/params.h"

namespace orch {

const ParamSpecs& experiment_param_specs();
const ParamSpecs& train_param_specs();

}  // namespace orch
