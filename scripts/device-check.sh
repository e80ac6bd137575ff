#!/usr/bin/env bash
# The GPU check, as one prepared script (docs/development.md, "The device check").
#
#   scripts/device-check.sh --prepare   on the development machine (Debian 12, apt reachable):
#                                       downloads the Debian packages orch builds with and
#                                       packs the MNIST digits into .device-check/ (ignored
#                                       by git), the one folder to carry to the GPU machine
#   scripts/device-check.sh [OUTDIR]    on the GPU machine (or any other): builds orch
#                                       against the PyTorch that python3 imports, runs the
#                                       CUDA tests and a cuda sweep of
#                                       experiments/mnist_cnn.toml under a memory budget,
#                                       and writes OUTDIR/device-check.md (OUTDIR: the
#                                       argument, else $OUT, else build-device-check/out)
#
# Without a GPU it still builds and tests what it can, reports the CUDA parts as absent
# with the reason, and exits 0. It exits 1 at the first stage that fails, saying why in
# the report. Environment: DEVICE_CHECK_PYTHON (the Python whose torch to use),
# DEVICE_CHECK_WORK (work folder, default build-device-check/), DEVICE_CHECK_BUILD_DIR
# (default: build in the work folder), DEVICE_CHECK_BUILD_TYPE (default Release),
# DEVICE_CHECK_BUILD_TIMEOUT (seconds, default 900), DEVICE_CHECK_NINJA=0 (Makefiles even
# where ninja is), DEVICE_CHECK_SYSTEM_PACKAGES=1 (use the Debian packages installed here
# instead of unpacking the carried ones).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
carry=$repo/.device-check

# What orch's CMakeLists.txt finds with find_package() (scripts/install-deps.sh installs the
# same packages), with the libraries their .so links point at. Header-only ones cost little;
# Boost's headers are most of the size.
dev_packages=(
  libboost1.74-dev libboost-filesystem1.74-dev libboost-system1.74-dev
  libboost-filesystem1.74.0 libboost-system1.74.0
  libtomlplusplus-dev libtomlplusplus3
  libsqlitecpp-dev libsqlite3-dev libsqlite3-0
  libspdlog-dev libspdlog1.10 libfmt-dev libfmt9
  libcli11-dev nlohmann-json3-dev
  libgtest-dev
  libxtensor-dev xtl-dev libzip-dev libzip4
)
# Programs the GPU machine is expected to have, carried in case it does not: CMake with
# the libraries Debian's cmake needs beyond a usual base system, ninja, pkg-config.
tool_packages=(
  cmake cmake-data libjsoncpp25 librhash0 libuv1 libarchive13
  ninja-build
  pkgconf pkgconf-bin libpkgconf3
)
mnist_files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte
  t10k-labels-idx1-ubyte)

# ---------------------------------------------------------------------------- --prepare
prepare() {
  command -v apt-get >/dev/null || { echo "device-check: --prepare needs apt-get (Debian 12)" >&2; exit 1; }
  bash "$repo/scripts/fetch-mnist.sh"
  rm -rf "$carry"
  mkdir -p "$carry/debs" "$carry/tools" "$carry/mnist"
  echo "device-check: downloading ${#dev_packages[@]} development packages into $carry/debs"
  (cd "$carry/debs" && apt-get download -q "${dev_packages[@]}" </dev/null)
  echo "device-check: downloading ${#tool_packages[@]} tool packages into $carry/tools"
  (cd "$carry/tools" && apt-get download -q "${tool_packages[@]}" </dev/null)
  for f in "${mnist_files[@]}"; do
    gzip -9 -c "$repo/data/mnist/$f" >"$carry/mnist/$f.gz"
  done
  {
    echo "prepared $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(. /etc/os-release && echo "$PRETTY_NAME")"
    (cd "$carry" && printf "%s\n" debs/*.deb tools/*.deb)
  } >"$carry/MANIFEST"
  local tree_bytes carry_bytes
  tree_bytes=$(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 du -cbL 2>/dev/null | tail -1 | cut -f1)
  carry_bytes=$(du -sb "$carry" | cut -f1)
  echo "device-check: $carry holds $((carry_bytes / 1048576)) MiB" \
    "(debs $(du -sm "$carry/debs" | cut -f1) MiB, tools $(du -sm "$carry/tools" | cut -f1) MiB," \
    "MNIST $(du -sm "$carry/mnist" | cut -f1) MiB); with the working tree" \
    "($((tree_bytes / 1048576)) MiB) $(((carry_bytes + tree_bytes) / 1048576)) MiB travel"
}

if [ "${1:-}" = "--prepare" ]; then
  prepare
  exit 0
fi
case ${1:-} in -h | --help) sed -n 2,20p "$0"; exit 0 ;; -*) echo "usage: $0 [--prepare | OUTDIR]" >&2; exit 2 ;; esac

# ------------------------------------------------------------------------------- check
work=${DEVICE_CHECK_WORK:-$repo/build-device-check}
out=${1:-${OUT:-$work/out}}
mkdir -p "$work" "$out"
out=$(cd "$out" && pwd)
log=$out/device-check.log
report=$out/device-check.md
: >"$log"
jobs=$(nproc)
started=$(date +%s)
stage_name=start
stage_started=$started
declare -a stage_lines=()
declare -A facts=()

note() { echo "device-check: $*" | tee -a "$log"; }
stage() {
  local now
  now=$(date +%s)
  [ "$stage_name" = start ] || stage_lines+=("| $stage_name | $((now - stage_started)) s |")
  stage_name=$1
  stage_started=$now
  note "== $1"
}
fact() { facts[$1]=$2; }
get() { echo "${facts[$1]:-}"; }

write_report() {
  local verdict=$1 now
  now=$(date +%s)
  {
    echo "# orch device check"
    echo
    echo "$verdict"
    echo
    echo "Written by scripts/device-check.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(get commit)."
    echo "Every figure below was measured by this run; none is copied from elsewhere."
    echo
    echo "## Machine"
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| host | $(get host) |"
    echo "| system | $(get os) |"
    echo "| CPU | $(get cpu), $jobs cores |"
    echo "| memory | $(get memory) |"
    echo "| GPU | $(get gpu) |"
    echo "| compiler | $(get compiler) |"
    echo "| CMake | $(get cmake) |"
    echo
    echo "## LibTorch"
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| Python | $(get python) |"
    echo "| torch | $(get torch) |"
    echo "| CUDA in torch | $(get torch_cuda) |"
    echo "| C++ ABI | $(get abi) |"
    echo "| built against | $(get torch_prefix) |"
    echo "| configure says | $(get configure_summary) |"
    echo
    echo "## Build"
    echo
    get build
    echo
    echo "## Tests"
    echo
    get tests
    echo
    echo "## CUDA sweep of experiments/mnist_cnn.toml"
    echo
    get sweep
    echo
    echo "## Stages"
    echo
    echo "| stage | time |"
    echo "|---|---|"
    printf '%s\n' "${stage_lines[@]}"
    echo "| $stage_name | $((now - stage_started)) s |"
    echo "| **total** | $((now - started)) s |"
  } >"$report"
}

fail() {
  trap - ERR
  note "FAILED in stage '$stage_name': $*"
  write_report "**Failed** in stage '$stage_name': $* (the log, device-check.log, has the details)."
  exit 1
}
trap 'fail "command failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR

# ----------------------------------------------------------------------------- machine
stage machine
if commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null); then
  git -C "$repo" diff --quiet HEAD 2>/dev/null || commit+=" (with local changes)"
fi
fact commit "${commit:-unknown (no git here)}"
fact host "$(uname -n)"
fact os "$( (. /etc/os-release && echo "$PRETTY_NAME") 2>/dev/null || uname -sr), kernel $(uname -r)"
fact cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
fact memory "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
gpu_reason=""
if command -v nvidia-smi >/dev/null 2>&1 &&
  gpu_line=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>>"$log" | head -1) &&
  [ -n "$gpu_line" ]; then
  fact gpu "$gpu_line"
  gpu_total_mib=$(nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits | head -1 | tr -d ' ')
elif [ ! -e /dev/nvidiactl ]; then
  gpu_reason="no NVIDIA driver or device on this machine (/dev/nvidiactl does not exist)"
else
  gpu_reason="nvidia-smi is missing or found no GPU"
fi
[ -z "$gpu_reason" ] || fact gpu "absent: $gpu_reason"
note "GPU: $(get gpu)"

# ---------------------------------------------------------------------------- packages
stage packages
prefix=$work/prefix  # the Debian development packages, unpacked (never into /)
tools=$work/tools    # programs carried in case the machine lacks them
if [ -d "$carry/debs" ] && [ "${DEVICE_CHECK_SYSTEM_PACKAGES:-0}" != 1 ]; then
  rm -rf "$prefix" "$tools"
  mkdir -p "$prefix" "$tools"
  for deb in "$carry"/debs/*.deb; do dpkg-deb -x "$deb" "$prefix" || fail "cannot unpack $deb"; done
  for deb in "$carry"/tools/*.deb; do dpkg-deb -x "$deb" "$tools" || fail "cannot unpack $deb"; done
  note "unpacked $(ls "$carry"/debs/*.deb | wc -l) development packages into $prefix"
  dep_prefix="$prefix/usr"
elif dpkg-query -W -f='${Status}' libsqlitecpp-dev 2>/dev/null | grep -q "install ok installed"; then
  note "using the Debian packages installed on this machine (no carried debs, or DEVICE_CHECK_SYSTEM_PACKAGES=1)"
  dep_prefix=""
else
  fail "neither $carry/debs nor installed Debian packages: run 'scripts/device-check.sh --prepare' on the development machine and carry .device-check"
fi
# pkg-config, for libzip: the machine's if it has one, else the carried pkgconf. Either
# reads the unpacked .pc files with their /usr paths moved under the prefix.
pkg_config=$(command -v pkg-config || true)
if [ -z "$pkg_config" ] && [ -x "$tools/usr/bin/pkgconf" ]; then
  pkg_config=$tools/bin/pkg-config
  mkdir -p "$tools/bin"
  printf '#!/bin/sh\nLD_LIBRARY_PATH=%s/usr/lib/x86_64-linux-gnu exec %s/usr/bin/pkgconf "$@"\n' \
    "$tools" "$tools" >"$pkg_config"
  chmod +x "$pkg_config"
fi
[ -n "$pkg_config" ] || fail "no pkg-config, and none carried: run --prepare again"
if [ -n "$dep_prefix" ]; then
  export PKG_CONFIG_SYSROOT_DIR=$prefix
  export PKG_CONFIG_LIBDIR=$prefix/usr/lib/x86_64-linux-gnu/pkgconfig:$prefix/usr/share/pkgconfig
fi
# CMake and the build tool: the machine's, else Python's cmake and ninja packages, else the
# carried Debian ones.
cmake=$(command -v cmake || true)
if [ -z "$cmake" ]; then
  for py in python3 /usr/bin/python3; do
    dir=$("$py" -c 'import cmake, os; print(cmake.CMAKE_BIN_DIR)' 2>/dev/null) || continue
    [ -x "$dir/cmake" ] && cmake=$dir/cmake && break
  done
fi
if [ -z "$cmake" ] && [ -x "$tools/usr/bin/cmake" ]; then
  cmake=$tools/bin/cmake
  mkdir -p "$tools/bin"
  printf '#!/bin/sh\nLD_LIBRARY_PATH=%s/usr/lib/x86_64-linux-gnu exec %s/usr/bin/cmake "$@"\n' \
    "$tools" "$tools" >"$cmake"
  chmod +x "$cmake"
fi
[ -n "$cmake" ] || fail "no cmake on this machine and none carried: run --prepare again"
"$cmake" --version >/dev/null 2>>"$log" || fail "$cmake does not run"
ctest=$(dirname "$(readlink -f "$cmake")")/ctest
[ -x "$ctest" ] || ctest=$(command -v ctest)
if [ "$cmake" = "$tools/bin/cmake" ]; then
  ctest=$tools/bin/ctest
  printf '#!/bin/sh\nLD_LIBRARY_PATH=%s/usr/lib/x86_64-linux-gnu exec %s/usr/bin/ctest "$@"\n' \
    "$tools" "$tools" >"$ctest"
  chmod +x "$ctest"
fi
generator=()
ninja=$(command -v ninja || true)
[ -n "$ninja" ] || { [ -x "$tools/usr/bin/ninja" ] && ninja=$tools/usr/bin/ninja; } || true
[ "${DEVICE_CHECK_NINJA:-1}" = 1 ] || ninja=""
[ -z "$ninja" ] || generator=(-G Ninja -DCMAKE_MAKE_PROGRAM="$ninja")
fact cmake "$("$cmake" --version | head -1) ($cmake), ${generator[1]:-Unix Makefiles}"
fact compiler "$(c++ --version 2>/dev/null | head -1 || echo 'no c++ found')"
command -v c++ >/dev/null || fail "no C++ compiler (c++) on this machine"

# ------------------------------------------------------------------------------- torch
stage torch
python=${DEVICE_CHECK_PYTHON:-}
if [ -z "$python" ]; then
  for py in python3 /usr/bin/python3 python; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import torch' 2>/dev/null; then
      python=$(command -v "$py")
      break
    fi
  done
fi
[ -n "$python" ] || fail "no Python with torch found (tried python3, /usr/bin/python3, python; set DEVICE_CHECK_PYTHON)"
# One line of facts from the torch Python package: version, CUDA, ABI, CMake folder.
torch_facts=$("$python" - <<'EOF' 2>>"$log"
import os, torch
cuda = torch.version.cuda or "none"
available = torch.cuda.is_available() if cuda != "none" else False
abi = int(torch._C._GLIBCXX_USE_CXX11_ABI)
cmake_dir = torch.utils.cmake_prefix_path
has_config = os.path.exists(os.path.join(cmake_dir, "Torch", "TorchConfig.cmake"))
print(torch.__version__, cuda, int(available), abi, cmake_dir if has_config else "-", sep="\t")
EOF
) || fail "$python cannot import torch"
IFS=$'\t' read -r torch_version torch_cuda cuda_usable abi torch_cmake_dir <<<"$torch_facts"
fact python "$python"
fact torch "$torch_version"
if [ "$abi" = 1 ]; then
  fact abi "C++11 ABI (torch._C._GLIBCXX_USE_CXX11_ABI = True), the one of the Debian libraries"
else
  fact abi "pre-C++11 ABI (torch._C._GLIBCXX_USE_CXX11_ABI = False): cannot be linked with the Debian libraries"
fi
torch_prefix=""
if [ "$torch_cmake_dir" != "-" ]; then
  torch_prefix=$torch_cmake_dir
  fact torch_prefix "$torch_cmake_dir (the Python package's LibTorch)"
  [ "$abi" = 1 ] || fail "torch $torch_version from $python uses the pre-C++11 ABI, which cannot be linked with the Debian libraries orch uses; use a PyTorch 2.7 or newer (or a cxx11-ABI LibTorch)"
elif [ -f /usr/lib/x86_64-linux-gnu/cmake/Torch/TorchConfig.cmake ]; then
  fact torch_prefix "Debian's libtorch-dev (/usr): $python's torch has no CMake files"
else
  fail "torch $torch_version from $python has no CMake files ($("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')/Torch) and no Debian libtorch-dev is installed"
fi
# A CUDA build of LibTorch needs the CUDA toolkit (nvcc, headers) when found by CMake, and
# cuDNN's headers and library, which pip keeps in the nvidia-cudnn package.
cmake_cuda_args=()
if [ "$torch_cuda" != none ] && [ -n "$torch_prefix" ]; then
  nvcc=$(command -v nvcc || true)
  for candidate in "${CUDA_HOME:-}/bin/nvcc" /usr/local/cuda/bin/nvcc; do
    [ -n "$nvcc" ] || { [ -x "$candidate" ] && nvcc=$candidate; } || true
  done
  [ -n "$nvcc" ] || fail "torch $torch_version is a CUDA $torch_cuda build, but no nvcc was found (PATH, \$CUDA_HOME, /usr/local/cuda): its CMake files need the CUDA toolkit"
  cuda_root=$(dirname "$(dirname "$(readlink -f "$nvcc")")")
  export PATH=$cuda_root/bin:$PATH
  cmake_cuda_args+=(-DCUDAToolkit_ROOT="$cuda_root" -DCUDA_TOOLKIT_ROOT_DIR="$cuda_root")
  cudnn_dir=$("$python" -c 'import nvidia.cudnn as c; print(list(c.__path__)[0])' 2>/dev/null || true)
  if [ -n "$cudnn_dir" ] && [ -f "$cudnn_dir/include/cudnn_version.h" ]; then
    cudnn_lib=$(ls "$cudnn_dir"/lib/libcudnn.so* 2>/dev/null | head -1)
    cmake_cuda_args+=(-DCUDNN_INCLUDE_PATH="$cudnn_dir/include" -DCUDNN_LIBRARY_PATH="$cudnn_lib"
      -DCUDNN_INCLUDE_DIR="$cudnn_dir/include" -DCUDNN_LIBRARY="$cudnn_lib")
  fi
  fact torch_cuda "CUDA $torch_cuda; torch.cuda.is_available() = $([ "$cuda_usable" = 1 ] && echo True || echo False); toolkit $cuda_root ($("$nvcc" --version | grep -o 'release [0-9.]*'))"
else
  fact torch_cuda "$([ "$torch_cuda" = none ] && echo "none: this torch was built without CUDA" || echo "CUDA $torch_cuda (not used: building against Debian's CPU LibTorch)")"
fi
note "torch $torch_version from $python; CUDA: $(get torch_cuda); $(get abi)"

# --------------------------------------------------------------------------- configure
stage configure
build=${DEVICE_CHECK_BUILD_DIR:-$work/build}
build_type=${DEVICE_CHECK_BUILD_TYPE-Release}
prefix_path="${dep_prefix}${dep_prefix:+;}${torch_prefix}"
"$cmake" -S "$repo" -B "$build" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE="$build_type" -DORCH_BUILD_TESTS=ON \
  -DCMAKE_PREFIX_PATH="$prefix_path" -DPKG_CONFIG_EXECUTABLE="$pkg_config" \
  "${cmake_cuda_args[@]}" >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log" >>"$log"; fail "cmake could not configure orch: $(grep -m1 -A3 'CMake Error' "$work/configure.log" | tr '\n' ' ' | cut -c1-600)"; }
cat "$work/configure.log" >>"$log"
fact configure_summary "$(grep -o 'orch: LibTorch.*' "$work/configure.log" | head -1); $(grep -o 'orch: cuda backend.*' "$work/configure.log" | head -1)"
with_cuda=$(grep -o 'orch: cuda backend [01]' "$work/configure.log" | grep -o '[01]$')
note "$(get configure_summary)"

# ------------------------------------------------------------------------------- build
stage build
# orch, the plugins the tests and the sweep load, and the two test binaries that hold the
# CUDA tests; not the whole suite.
targets=(orch orch_training orch_backend_cpu orch_backend_cuda orch_backend_mps
  orch_dataset_synthetic orch_dataset_mnist orch_model_mlp orch_model_mnist_cnn
  trainer_test backend_availability_test)
build_started=$(date +%s)
build_rc=0
timeout "${DEVICE_CHECK_BUILD_TIMEOUT:-900}" "$cmake" --build "$build" -j"$jobs" \
  --target "${targets[@]}" >"$work/build.log" 2>&1 || build_rc=$?
cat "$work/build.log" >>"$log"
[ "$build_rc" != 124 ] || fail "the build took over ${DEVICE_CHECK_BUILD_TIMEOUT:-900} s (DEVICE_CHECK_BUILD_TIMEOUT) and was stopped"
[ "$build_rc" = 0 ] || fail "the build failed: $(grep -m1 -B2 -A4 'error' "$work/build.log" | tr '\n' ' ' | cut -c1-600)"
fact build "${#targets[@]} targets (${targets[*]}) built in $(($(date +%s) - build_started)) s with $jobs jobs (CMAKE_BUILD_TYPE=$build_type, $(grep -c 'Building CXX' "$work/build.log" || true) files compiled)."

# ------------------------------------------------------------------------------- tests
stage tests
# The cuda backend's tests (loaded from the real plugin: availability, refusal, allocator
# statistics, device range), the bf16 autocast ones, and orch's listing and skipping of
# backends that cannot run. Each skips itself, with the reason, where CUDA is absent.
junit=$work/tests.xml
set +e
timeout 300 "$ctest" --test-dir "$build" -R '^(BackendsTest|BackendAvailabilityTest)\.' \
  -j"$jobs" --output-on-failure --output-junit "$junit" >"$work/tests.log" 2>&1
ctest_rc=$?
set -e
cat "$work/tests.log" >>"$log"
[ -f "$junit" ] || fail "ctest wrote no results (exit $ctest_rc); see the log"
tests_md=$("$python" - "$junit" <<'EOF'
import sys, xml.etree.ElementTree as ET
cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
rows, count = [], {"passed": 0, "skipped": 0, "failed": 0}
for case in cases:
    name, status = case.get("name"), case.get("status", "run")
    out = (case.findtext("system-out") or "")
    if case.find("failure") is not None or case.find("error") is not None or status == "fail":
        kind = "failed"
    elif case.find("skipped") is not None or status in ("notrun", "disabled") or "[  SKIPPED ]" in out:
        kind = "skipped"
    else:
        kind = "passed"
    count[kind] += 1
    why = ""
    if kind == "skipped":  # GoogleTest prints "file:line: Skipped", then the reason
        lines = out.splitlines()
        for i, line in enumerate(lines[:-1]):
            if line.rstrip().endswith(": Skipped"):
                why = lines[i + 1].strip().replace("|", "/")
                break
    rows.append(f"| {name} | {kind} | {why} |")
print(f"{count['passed']} passed, {count['skipped']} skipped, {count['failed']} failed "
      f"(ctest -R '^(BackendsTest|BackendAvailabilityTest)\\.').\n")
print("| test | result | why skipped |\n|---|---|---|")
print("\n".join(rows))
EOF
) || fail "cannot read the test results in $junit"
fact tests "$tests_md"
note "$(head -1 <<<"$tests_md")"
[ "$ctest_rc" = 0 ] || fail "$(head -1 <<<"$tests_md")"

# ------------------------------------------------------------------------------- sweep
stage sweep
# The shipped file, its backend set to cuda, on every digit carried (about 8,000 training
# and 2,000 validation digits), with a host budget and a cap on the device memory the
# caching allocator may take.
mnist=$work/mnist
mkdir -p "$mnist"
if [ -d "$carry/mnist" ]; then
  for f in "${mnist_files[@]}"; do gunzip -c "$carry/mnist/$f.gz" >"$mnist/$f"; done
elif [ -f "$repo/data/mnist/${mnist_files[0]}" ]; then
  cp -L "$repo"/data/mnist/* "$mnist/"
else
  fail "no MNIST digits: run --prepare (it packs data/mnist into .device-check/mnist)"
fi
host_budget=8GiB
fraction=0.5
db=$work/sweep.db
rm -rf "$db" "$db"-*
set +e
timeout 300 "$build/bin/orch" run "$repo/experiments/mnist_cnn.toml" --db "$db" \
  --set backend.plugin=cuda --set backend.cuda.memory_fraction=$fraction \
  --set dataset.dir="$mnist" --set dataset.train_samples=0 --set dataset.val_samples=0 \
  --memory-limit $host_budget >"$work/sweep.log" 2>&1
sweep_rc=$?
set -e
cat "$work/sweep.log" >>"$log"
[ "$sweep_rc" = 0 ] || fail "orch run exited $sweep_rc: $(tail -3 "$work/sweep.log" | tr '\n' ' ')"
device_budget="$fraction of the device"
[ -z "${gpu_total_mib:-}" ] ||
  device_budget="$(awk -v t="$gpu_total_mib" -v f="$fraction" 'BEGIN {printf "%.0f MiB", t * f}') ($fraction of $gpu_total_mib MiB)"
"$build/bin/orch" sql --db "$db" --format csv \
  "SELECT f.batch_size, f.status, f.epoch_s, f.samples_per_s, f.step_median_s,
          r.peak_device_bytes / 1048576.0 AS peak_device_mib, f.peak_rss_mib, f.error
   FROM runs_flat f JOIN runs r ON r.id = f.run_id ORDER BY f.batch_size" \
  >"$work/sweep.csv" 2>>"$log" || fail "orch sql could not read $db"
sweep_md=$("$python" - "$work/sweep.csv" "$device_budget" "$host_budget" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def num(value, fmt, scale=1.0):
    return fmt.format(scale * float(value)) if value not in (None, "") else ""
print(f"Runs of the cuda backend, one per batch size; device budget {sys.argv[2]} "
      f"(backend.cuda.memory_fraction), host budget {sys.argv[3]} per run (--memory-limit).\n")
print("| batch | status | epoch s | samples/s | step median ms | allocator peak MiB | peak RSS MiB | note |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    note = (r.get("error") or "").replace("|", "/").replace("\n", " ")
    print(f"| {r['batch_size']} | {r['status']} | {num(r['epoch_s'], '{:.2f}')} | "
          f"{num(r['samples_per_s'], '{:.0f}')} | {num(r['step_median_s'], '{:.3f}', 1000)} | "
          f"{num(r['peak_device_mib'], '{:.0f}')} | {num(r['peak_rss_mib'], '{:.0f}')} | {note} |")
if not rows:
    print("| | no run was recorded | | | | | | |")
EOF
) || fail "cannot format the sweep's rows"
skipped=$(grep '^ *skipped:' "$work/sweep.log" | sort -u | head -5 || true)
[ -z "$skipped" ] || sweep_md+=$'\n\norch said:\n\n```\n'"$skipped"$'\n```'
fact sweep "$sweep_md"
# The database travels back as one file (a GPU machine returns few files).
"$python" -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).backup(sqlite3.connect(sys.argv[2]))' \
  "$db" "$out/device-check.db" 2>>"$log" || note "could not copy $db into $out"
ok_runs=$(grep -c '| ok |' <<<"$sweep_md" || true)
note "sweep: $ok_runs cuda runs ok"
if [ -z "$gpu_reason" ] && [ "$with_cuda" = 1 ] && [ "$ok_runs" = 0 ]; then
  fail "this machine has a GPU and a CUDA build of orch, but no cuda run finished ok"
fi

# ------------------------------------------------------------------------------ report
if [ "$ok_runs" -gt 0 ]; then
  verdict="**CUDA measured**: $ok_runs cuda runs finished on $(get gpu)."
else
  reason=${gpu_reason:-}
  [ -n "$reason" ] || [ "$with_cuda" = 1 ] || reason="this LibTorch ($torch_version) has no CUDA"
  [ -n "$reason" ] || reason="see the sweep's notes below"
  verdict="**CUDA parts absent**: $reason. orch built and its tests ran; the CUDA tests skipped themselves and the cuda runs were skipped, with the reasons below. No GPU figure was measured."
fi
write_report "$verdict"
note "report: $report"
