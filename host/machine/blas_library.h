// Which BLAS library this process multiplies matrices with. LibTorch on Debian links
// libblas.so.3, and Debian's alternatives system decides which implementation that name
// is: netlib's reference BLAS (straightforward loops, single-threaded, several times
// slower than an optimized one), OpenBLAS, BLIS, ATLAS or MKL. The file the loader opened
// says which.
#pragma once

#include <string>

namespace orch {

enum class BlasKind { kNone, kNetlib, kOpenBlas, kBlis, kAtlas, kMkl, kUnknown };

struct BlasLibrary {
  BlasKind kind = BlasKind::kNone;
  std::string path;     // the real file, symbolic links resolved
  bool loaded = false;  // false: the system default, read from the loader's search path
};

// The BLAS library named in /proc/self/maps text (`maps`): the first mapped file called
// libblas.so*, libopenblas*.so*, libblis*.so*, libmkl_rt*.so* or libsatlas.so*. Kind kNone
// when there is none.
BlasLibrary blas_in_maps(const std::string& maps);

// What a library path is: Debian keeps each implementation of libblas.so.3 in a folder
// of its own (blas/, openblas-pthread/, blis-openmp/, atlas/, ...).
BlasKind classify_blas_path(const std::string& path);

// The BLAS this process has loaded (LibTorch loads it); when none is loaded, the one the
// loader would pick for libblas.so.3 on this system, with loaded = false.
BlasLibrary current_blas();

// "netlib reference BLAS", "OpenBLAS", ...
std::string blas_kind_name(BlasKind kind);
// A short stable word for records and JSON: "netlib", "openblas", "blis", "atlas", "mkl",
// "unknown", "none".
std::string blas_kind_id(BlasKind kind);

// The Debian package that holds a libblas.so.3 at `path` ("libblas3" for netlib's), or
// "" when the path is not one of Debian's.
std::string debian_blas_package(const std::string& path);

// What to do about netlib's reference BLAS (install an optimized one, and which); "" for
// the others: the measured speed says whether they are fast.
std::string blas_advice(const BlasLibrary& blas);

}  // namespace orch
