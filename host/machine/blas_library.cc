#include "host/machine/blas_library.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

namespace orch {
namespace {

// The Debian multiarch folder where libblas.so.3 and its alternatives live.
const std::string kLibDir = "/usr/lib/x86_64-linux-gnu";

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string file_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The folder a library lives in, without the path above it: "openblas-pthread" for
// /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3.
std::string folder_name(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return "";
  return file_name(path.substr(0, slash));
}

bool is_blas_file(const std::string& name) {
  for (const char* prefix : {"libblas.so", "libopenblas", "libblis", "libmkl_rt", "libsatlas"}) {
    if (starts_with(name, prefix) && contains(name, ".so")) return true;
  }
  return false;
}

std::string real_path(const std::string& path) {
  std::error_code error;
  const auto resolved = std::filesystem::canonical(path, error);
  return error ? path : resolved.string();
}

struct KindWords {
  BlasKind kind;
  const char* id;    // for records and JSON
  const char* name;  // for people
};

const KindWords& describe(BlasKind kind) {
  static const KindWords kWords[] = {
      {BlasKind::kNone, "none", "no BLAS library"},
      {BlasKind::kNetlib, "netlib", "netlib reference BLAS"},
      {BlasKind::kOpenBlas, "openblas", "OpenBLAS"},
      {BlasKind::kBlis, "blis", "BLIS"},
      {BlasKind::kAtlas, "atlas", "ATLAS"},
      {BlasKind::kMkl, "mkl", "Intel MKL"},
      {BlasKind::kUnknown, "unknown", "an unrecognized BLAS"},
  };
  for (const auto& words : kWords)
    if (words.kind == kind) return words;
  return kWords[std::size(kWords) - 1];
}

}  // namespace

BlasKind classify_blas_path(const std::string& path) {
  const std::string name = file_name(path);
  const std::string folder = folder_name(path);
  if (starts_with(name, "libopenblas") || starts_with(folder, "openblas"))
    return BlasKind::kOpenBlas;
  if (starts_with(name, "libblis") || starts_with(folder, "blis")) return BlasKind::kBlis;
  if (starts_with(name, "libmkl") || contains(path, "/mkl/") || contains(path, "intel64"))
    return BlasKind::kMkl;
  if (starts_with(name, "libsatlas") || folder == "atlas") return BlasKind::kAtlas;
  // Debian's reference implementation sits in blas/; elsewhere (Fedora, a source build of
  // LAPACK) a plain libblas.so.3 beside the other libraries is netlib's too, but it could
  // be anything named so: say unknown rather than guess.
  if (folder == "blas" && starts_with(name, "libblas.so")) return BlasKind::kNetlib;
  return BlasKind::kUnknown;
}

BlasLibrary blas_in_maps(const std::string& maps) {
  std::istringstream lines(maps);
  for (std::string line; std::getline(lines, line);) {
    // address perms offset dev inode path; the path is the sixth field and may be absent.
    std::istringstream fields(line);
    std::string address, perms, offset, device, inode, path;
    if (!(fields >> address >> perms >> offset >> device >> inode >> path)) continue;
    if (path.empty() || path[0] != '/' || !is_blas_file(file_name(path))) continue;
    return BlasLibrary{classify_blas_path(path), path, true};
  }
  return BlasLibrary{};
}

BlasLibrary current_blas() {
  std::ifstream in("/proc/self/maps");
  std::ostringstream maps;
  maps << in.rdbuf();
  BlasLibrary blas = blas_in_maps(maps.str());
  if (blas.kind != BlasKind::kNone) return blas;
  // Not loaded (this process has not loaded LibTorch): the file the loader would open for
  // libblas.so.3 from the system's library folders, through Debian's alternatives link.
  for (const std::string& dir : {kLibDir, std::string("/lib/x86_64-linux-gnu"),
                                 std::string("/usr/lib64"), std::string("/usr/lib")}) {
    const std::string candidate = dir + "/libblas.so.3";
    std::error_code error;
    if (!std::filesystem::exists(candidate, error)) continue;
    const std::string path = real_path(candidate);
    return BlasLibrary{classify_blas_path(path), path, false};
  }
  return blas;
}

std::string blas_kind_name(BlasKind kind) { return describe(kind).name; }

std::string blas_kind_id(BlasKind kind) { return describe(kind).id; }

std::string debian_blas_package(const std::string& path) {
  if (!starts_with(path, kLibDir + "/") && !starts_with(path, "/lib/x86_64-linux-gnu/")) return "";
  const std::string folder = folder_name(path);
  if (folder == "blas") return "libblas3";
  if (folder == "atlas") return "libatlas3-base";
  // openblas-pthread/ is libopenblas0-pthread, blis-openmp/ is libblis4-openmp, ...
  if (starts_with(folder, "openblas-")) return "libopenblas0-" + folder.substr(9);
  if (starts_with(folder, "blis-")) return "libblis4-" + folder.substr(5);
  if (starts_with(file_name(path), "libmkl_rt")) return "libmkl-rt";
  return "";
}

std::string blas_advice(const BlasLibrary& blas) {
  if (blas.kind != BlasKind::kNetlib) return "";
  return "it is the slow reference implementation and uses one core: install an optimized "
         "one, `sudo apt-get install libopenblas0-pthread` (or libblis4-pthread); "
         "update-alternatives then points libblas.so.3 at it for LibTorch, no rebuild needed";
}

}  // namespace orch
