#!/usr/bin/env bash
# Installs what is missing, configures, builds and runs the whole test suite (ctest).
# Usage: scripts/test.sh [build-dir]      (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
jobs=$(nproc)

bash scripts/install-deps.sh --tests
bash scripts/fetch-mnist.sh      # the real MNIST digits, once, into data/mnist
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DORCH_BUILD_TESTS=ON
cmake --build "$build_dir" -j"$jobs"
cd "$build_dir"
ctest --output-on-failure --timeout 600 -j"$jobs"
