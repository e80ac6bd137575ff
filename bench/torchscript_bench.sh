#!/usr/bin/env bash
# Step time of a model exported from Python against the same network as orch's C++ plugin
# and against the PyTorch loop a user writes. The network is mnist_cnn's (bench/
# mnist_sweep.py defines it once), batch 16, 2 threads, random 1x28x28 images, Adam.
#
#   bench/torchscript_bench.sh build/bin/orch [--rounds 3] [--batch-size 16] [--threads 2]
#                              [--smoke]
#
# Each round runs, in turn: orch with the mnist_cnn plugin, orch with the torchscript
# plugin on the scripted export (both in benchmark mode: warm-up, then measured steps
# until the median is known to 2%), and bench/torchscript_step.py's Python loop. orch's
# figure is the run's median step (runs.step_median_s); Python's is the median of its
# measured steps. Prints each round, the medians, and as RESULT lines the medians of the
# rounds' ratios (each round's three figures are measured side by side, minutes apart at
# most, so a ratio within a round is steadier than a ratio of medians).
# --smoke: one round at batch 4, to show the bench still runs; its numbers say nothing.
set -euo pipefail

[[ $# -ge 1 ]] || { sed -n '6,7p' "$0" | sed 's/^#  *//'; exit 2; }
ORCH=$(realpath "$1")
shift
ROUNDS=3 BATCH=16 THREADS=2
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --batch-size) BATCH=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --smoke) ROUNDS=1 BATCH=4; shift ;;
    *) echo "torchscript_bench: unknown option $1" >&2; exit 2 ;;
  esac
done
PYTHON=/usr/bin/python3  # Debian's python3-torch: the same LibTorch 1.13 build as orch's
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$PYTHON" "$HERE/torchscript_step.py" export "$WORK"

experiment() {  # MODEL_SECTION -> an experiment file in benchmark mode
  cat <<TOML
[experiment]
name = "step"
seed = 0
[backend]
plugin = "cpu"
threads = $THREADS
[dataset]
plugin = "synthetic_images"
samples = 2048
val_samples = 64
[model]
$1
[train]
batch_size = $BATCH
lr = 0.001
mode = "benchmark"
min_steps = 30
max_steps = 200
TOML
}
experiment 'plugin = "mnist_cnn"' > "$WORK/cpp.toml"
experiment "plugin = \"torchscript\"
path = \"$WORK/mnist_cnn.pt\"" > "$WORK/script.toml"

orch_step_ms() {  # FILE -> the run's median step in ms
  local db="$WORK/$(basename "$1" .toml)-$2.db"
  "$ORCH" run "$1" --db "$db" > "$WORK/out.txt" 2>&1 || { cat "$WORK/out.txt" >&2; exit 1; }
  "$ORCH" sql --db "$db" "SELECT ROUND(step_median_s * 1000, 3) FROM run_summary WHERE status = 'ok'" |
    awk 'NR > 2 && $1 ~ /^[0-9.]+$/ { print $1; exit }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

cpp=() script=() python=() vs_cpp=() vs_python=()
for round in $(seq 1 "$ROUNDS"); do
  cpp+=("$(orch_step_ms "$WORK/cpp.toml" "$round")")
  script+=("$(orch_step_ms "$WORK/script.toml" "$round")")
  python+=("$("$PYTHON" "$HERE/torchscript_step.py" loop --batch-size "$BATCH" \
    --threads "$THREADS" --steps 60 | sed -n 's/^RESULT step_median_ms=//p')")
  vs_cpp+=("$(ratio "${script[-1]}" "${cpp[-1]}")")
  vs_python+=("$(ratio "${script[-1]}" "${python[-1]}")")
  echo "round $round: C++ plugin ${cpp[-1]} ms, torchscript ${script[-1]} ms, python loop" \
    "${python[-1]} ms; torchscript / C++ ${vs_cpp[-1]}, torchscript / python ${vs_python[-1]}"
done
median_of() { printf '%s\n' "$@" | median; }
echo "median step (batch $BATCH, $THREADS threads): C++ plugin $(median_of "${cpp[@]}") ms," \
  "torchscript $(median_of "${script[@]}") ms, python loop $(median_of "${python[@]}") ms"
echo "RESULT torchscript_vs_cpp_step $(median_of "${vs_cpp[@]}") target<=1.05"
echo "RESULT torchscript_vs_python_step $(median_of "${vs_python[@]}") target<=1.00"
