#!/usr/bin/env bash
# Installs what is missing, builds orch, and runs experiments/quickstart.toml: batch
# sizes 2/4/8 x epochs 1/2 of an MLP on synthetic data on the CPU, then prints the table
# of runs and the best configuration. Usage: scripts/quickstart.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}

bash scripts/install-deps.sh
bash scripts/fetch-mnist.sh      # the real MNIST digits, once, into data/mnist
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" -j"$(nproc)" --target orch orch_backend_cpu orch_dataset_synthetic orch_model_mlp
"$build_dir/bin/orch" run experiments/quickstart.toml --db "$build_dir/quickstart.db"
