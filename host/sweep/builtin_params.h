// Parameters the host itself owns: the [experiment] and [train] sections. They are
// declared and validated exactly like a plugin's, so the file format stays uniform; the
// checks that span several [train] keys of a sweep follow (a key no run reads, a cosine
// schedule that does not go down).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "host/run/run_spec.h"
#include "host/sweep/experiment.h"
#include "orch/params.h"

namespace orch {

const ParamSpecs& experiment_param_specs();
const ParamSpecs& train_param_specs();

// Throws UserError when a [train] key is set (not left at its default) but no run of
// the sweep uses it: momentum without sgd, betas without adam/adamw, a schedule's keys
// without that schedule; or when cosine's lr_min is not below lr. A key that some runs
// use (train.optimizer swept over sgd and adam, say) is accepted.
void check_train_keys(const Experiment& experiment, const std::vector<RunSpec>& runs);

// The [train] keys check_train_keys reads: runs that agree on these get the same verdict.
const std::set<std::string>& keys_read_by_check_train_keys();

}  // namespace orch
