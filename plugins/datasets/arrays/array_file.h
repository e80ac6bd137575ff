// Named arrays from the files Python users already have: NumPy .npz archives (np.savez or
// np.savez_compressed), single .npy arrays (np.save), and dicts of tensors saved with
// torch.save. Every error is one sentence naming the file and what to do.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

namespace orch_datasets {

// The arrays of `path` by name; a .npy file holds one array, named `name_for_npy`.
// Floating-point arrays come back as float32, booleans as float32, integers as int64.
std::map<std::string, torch::Tensor> read_arrays(const std::string& path,
                                                 const std::string& name_for_npy);

// One .npy array from its bytes; `where` names it in errors ("train.npz, member x.npy").
torch::Tensor npy_tensor(const std::string& bytes, const std::string& where);

}  // namespace orch_datasets
