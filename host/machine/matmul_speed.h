// How fast LibTorch multiplies fp32 matrices here, the operation that dominates training
// a dense model on a CPU: the number that shows a slow BLAS, or one that does not use the
// threads it is given. It lives in the training library (host/training/training_library.h), which
// `orch doctor` loads; the host reaches it by these symbols.
#pragma once

namespace orch {

inline constexpr const char* kMatmulSpeedSymbol = "orch_matmul_gflops";
inline constexpr const char* kTorchThreadsSymbol = "orch_torch_intra_op_threads";

}  // namespace orch

// The median GFLOP/s of `repeats` products of two size x size fp32 matrices on `threads`
// intra-op threads (after one product to warm up); the thread count is put back after.
// Returns a negative number when LibTorch threw. Starts LibTorch's thread pool: call it
// only in a process that will not fork workers afterwards.
extern "C" double orch_matmul_gflops(int threads, int size, int repeats);

// LibTorch's intra-op thread count in this process as it stands (its default until a
// backend sets it).
extern "C" int orch_torch_intra_op_threads();
