#!/usr/bin/env bash
# Whole-sweep wall time and peak memory of the MNIST CNN study (experiments/mnist_cnn.toml,
# batch 2/8/16, cpu), orch against what users run today: a PyTorch script (Debian's
# python3-torch, the same 1.13 build as orch's LibTorch), one process per batch size.
#
#   bench/mnist_sweep_bench.sh build/bin/orch [--rounds 3] [--threads 2] [--epochs 1]
#                              [--train-samples 512] [--val-samples 256] [--smoke]
#                              [--orch-env KEY=VALUE]...
#
# Each round runs both sides, alternating which goes first, each with a fresh directory:
#   python: for B in 2 8 16: /usr/bin/python3 bench/mnist_sweep.py --batch-size B ...
#   orch:   orch --db DIR/orch.db run experiments/mnist_cnn.toml --set backend.plugin=cpu
#           --set backend.cpu.threads=T --set dataset.train_samples=N ...
# Wall time is the whole command's. Peak memory: python's is the largest of its three
# processes' ru_maxrss; orch's is the largest worker peak it recorded (runs.peak_rss_bytes),
# and the orch host process's own high-water mark (VmHWM) is reported next to it.
# Prints per round, the medians, and RESULT lines; exits 0 whether or not the targets are
# met, non-zero only when something failed to run or the two sides trained differently.
# --orch-env sets a variable in orch's environment only, to measure a proposed change
# before making it, e.g. keeping freed memory in the worker's heap instead of returning it
# to the kernel: GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=67108864
set -euo pipefail

usage() {
  sed -n '6,8p' "$0" | sed 's/^#  *//'
  exit 2
}

die() {
  echo "mnist_sweep_bench: $*" >&2
  exit 1
}

[[ $# -ge 1 ]] || usage
ORCH=$1
shift
ROUNDS=3
THREADS=$(nproc)
EPOCHS=1
TRAIN=512
VAL=256
SMOKE=0
ORCH_ENV=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --epochs) EPOCHS=$2; shift 2 ;;
    --train-samples) TRAIN=$2; shift 2 ;;
    --val-samples) VAL=$2; shift 2 ;;
    --smoke) SMOKE=1; shift ;;
    --orch-env) ORCH_ENV+=("$2"); shift 2 ;;
    -h|--help) usage ;;
    *) die "unknown argument '$1'; see $0 --help" ;;
  esac
done
if [[ $SMOKE == 1 ]]; then
  ROUNDS=1 EPOCHS=1 TRAIN=64 VAL=32
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
EXPERIMENT=$ROOT/experiments/mnist_cnn.toml
SCRIPT=$ROOT/bench/mnist_sweep.py
DATA=$ROOT/data/mnist
PYTHON=/usr/bin/python3  # Debian's python3-torch; a pyenv python3 on PATH may lack torch
BATCHES=(2 8 16)         # the sweep's train.batch_size axis

[[ -x $ORCH ]] || die "$ORCH is not an executable; build it: cmake --build BUILD --target orch"
[[ -f $DATA/train-images-idx3-ubyte ]] || die "no MNIST in $DATA; run scripts/fetch-mnist.sh"
"$PYTHON" -c 'import torch' 2>/dev/null ||
  die "$PYTHON cannot import torch; apt-get install python3-torch"
command -v sqlite3 >/dev/null || die "sqlite3 is needed to read orch's database; apt-get install sqlite3"

ORCH_ARGS=(--set backend.plugin=cpu --set "backend.cpu.threads=$THREADS"
  --set "dataset.train_samples=$TRAIN" --set "dataset.val_samples=$VAL"
  --set "train.epochs=$EPOCHS")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mnist_sweep_bench.XXXXXX")
ORCH_PID=
cleanup() {
  if [[ -n $ORCH_PID ]]; then kill "$ORCH_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
# A FIFO nobody writes to: `read -t` on it sleeps without starting a process per poll.
mkfifo "$WORK/tick"
exec {TICK}<>"$WORK/tick"

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.3f\", $* }"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
median_int() { median "$@" | awk '{ printf "%.0f", $1 }'; }
mib() { awk "BEGIN { printf \"%.1f\", $1 / 1048576 }"; }

# The sweep must be exactly the three batch sizes on cpu, nothing else.
"$ORCH" --db "$WORK/plan.db" plan "$EXPERIMENT" "${ORCH_ARGS[@]}" >"$WORK/plan.txt" 2>&1 ||
  { cat "$WORK/plan.txt" >&2; die "orch plan failed"; }
for b in "${BATCHES[@]}"; do
  grep -Eq "train\.batch_size=$b([^0-9]|$)" "$WORK/plan.txt" ||
    { cat "$WORK/plan.txt" >&2; die "orch plan has no run with batch $b"; }
done
PLANNED=$(grep -Ec 'train\.batch_size=[0-9]+' "$WORK/plan.txt" || true)
[[ $PLANNED == "${#BATCHES[@]}" ]] ||
  { cat "$WORK/plan.txt" >&2; die "orch plan lists $PLANNED runs, expected ${#BATCHES[@]}"; }

# python: sets PY_WALL PY_PEAK PY_STEPS PY_SAMPLES
run_python() {
  local dir=$1 start end b out
  PY_PEAK=0 PY_STEPS=0 PY_SAMPLES=0 PY_DETAIL=
  start=$(now)
  for b in "${BATCHES[@]}"; do
    "$PYTHON" "$SCRIPT" --batch-size "$b" --epochs "$EPOCHS" --threads "$THREADS" \
      --train-samples "$TRAIN" --val-samples "$VAL" --data "$DATA" >"$dir/python_b$b.log" 2>&1 ||
      { cat "$dir/python_b$b.log" >&2; die "the python script failed at batch $b"; }
  done
  end=$(now)
  PY_WALL=$(calc "$end - $start")
  for b in "${BATCHES[@]}"; do
    out=$dir/python_b$b.log
    local peak steps samples
    peak=$(sed -n 's/^RESULT .*peak_rss_bytes=\([0-9]*\).*/\1/p' "$out")
    steps=$(sed -n 's/^STEPS train_steps=\([0-9]*\).*/\1/p' "$out")
    samples=$(sed -n 's/^STEPS .*train_samples=\([0-9]*\).*/\1/p' "$out")
    [[ -n $peak && -n $steps ]] || die "no RESULT/STEPS line in $out"
    ((peak > PY_PEAK)) && PY_PEAK=$peak
    PY_DETAIL+="${PY_DETAIL:+, }b$b $(sed -n 's/^RESULT wall_s=\([0-9.]*\).*/\1/p' "$out")s"
    PY_DETAIL+=" ($(grep -o '[0-9.]* samples/s' "$out" | head -1))"
    PY_STEPS=$((PY_STEPS + steps))
    PY_SAMPLES=$((PY_SAMPLES + samples))
  done
}

# orch: sets ORCH_WALL ORCH_PEAK ORCH_HOST_PEAK ORCH_STEPS ORCH_SAMPLES ORCH_WARMUP
run_orch() {
  local dir=$1 start end hwm line rc=0
  ORCH_HOST_PEAK=0
  start=$(now)
  env ${ORCH_ENV[@]+"${ORCH_ENV[@]}"} "$ORCH" --db "$dir/orch.db" run "$EXPERIMENT" "${ORCH_ARGS[@]}" \
    >"$dir/orch.log" 2>&1 &
  ORCH_PID=$!
  # The host's own high-water mark: /usr/bin/time's %M would be the largest of the host
  # and the workers it waited for, so it cannot tell them apart.
  while [[ -r /proc/$ORCH_PID/status ]]; do
    hwm=0
    while read -r line; do
      [[ $line == VmHWM:* ]] && { hwm=${line//[^0-9]/}; break; }
    done <"/proc/$ORCH_PID/status" 2>/dev/null || true
    ((hwm * 1024 > ORCH_HOST_PEAK)) && ORCH_HOST_PEAK=$((hwm * 1024))
    [[ -z $hwm || $hwm == 0 ]] && break  # a zombie: the host has exited
    read -r -t 0.1 -u "$TICK" _ || true
  done
  wait "$ORCH_PID" || rc=$?
  end=$(now)
  ORCH_PID=
  ORCH_WALL=$(calc "$end - $start")
  ((rc == 0)) || { tail -20 "$dir/orch.log" >&2; die "orch run failed (exit $rc)"; }
  q() { sqlite3 -batch -noheader "$dir/orch.db" "$1"; }
  local ok
  ok=$(q "SELECT COUNT(*) FROM runs WHERE status = 'ok'")
  [[ $ok == "${#BATCHES[@]}" ]] ||
    { q "SELECT id, swept, status, error FROM runs" >&2; die "orch finished $ok runs ok, expected ${#BATCHES[@]}"; }
  ORCH_PEAK=$(q "SELECT MAX(peak_rss_bytes) FROM runs")
  ORCH_STEPS=$(q "SELECT SUM(e.steps) FROM epochs e")
  # Warm-up steps are the first (full) batches of an epoch: trained, only not timed.
  ORCH_SAMPLES=$(q "SELECT SUM(e.timed_samples + e.warmup_steps * r.batch_size)
                     FROM epochs e JOIN runs r ON r.id = e.run_id")
  ORCH_WARMUP=$(q "SELECT SUM(warmup_steps) FROM epochs")
  ORCH_RUN_WALLS=$(q "SELECT group_concat(printf('b%d %.2fs (%.1f samples/s)', batch_size, wall_s, samples_per_s), ', ')
                       FROM (SELECT r.batch_size, r.wall_s, e.samples_per_s FROM runs r
                             JOIN epochs e ON e.run_id = r.id AND e.epoch = 1
                             ORDER BY r.batch_size) r")
}

echo "MNIST CNN sweep, batch ${BATCHES[*]}, cpu, $THREADS thread(s), $EPOCHS epoch(s)," \
  "$TRAIN train / $VAL val digits, $ROUNDS round(s)"
echo "orch: $ORCH${ORCH_ENV[*]+ with ${ORCH_ENV[*]}}; python: $PYTHON $($PYTHON -c 'import torch; print("torch", torch.__version__)')"
# Allocator settings change this workload's speed several-fold (see README): say so.
for var in GLIBC_TUNABLES MALLOC_ARENA_MAX MALLOC_MMAP_THRESHOLD_ MALLOC_TRIM_THRESHOLD_ LD_PRELOAD; do
  if [[ -n ${!var:-} ]]; then echo "note: both sides run with $var=${!var}"; fi
done
WALL_RATIOS=() PEAK_RATIOS=() ORCH_WALLS=() PY_WALLS=() ORCH_PEAKS=() PY_PEAKS=() HOST_PEAKS=()
for ((round = 1; round <= ROUNDS; ++round)); do
  dir=$WORK/round$round
  mkdir -p "$dir/orch" "$dir/python"
  if ((round % 2)); then
    run_orch "$dir/orch"
    run_python "$dir/python"
  else
    run_python "$dir/python"
    run_orch "$dir/orch"
  fi
  [[ $ORCH_STEPS == "$PY_STEPS" && $ORCH_SAMPLES == "$PY_SAMPLES" ]] ||
    die "the sides trained differently: orch $ORCH_STEPS steps / $ORCH_SAMPLES samples," \
      "python $PY_STEPS steps / $PY_SAMPLES samples"
  WALL_RATIOS+=("$(calc "$ORCH_WALL / $PY_WALL")")
  PEAK_RATIOS+=("$(calc "$ORCH_PEAK / $PY_PEAK")")
  ORCH_WALLS+=("$ORCH_WALL") PY_WALLS+=("$PY_WALL")
  ORCH_PEAKS+=("$ORCH_PEAK") PY_PEAKS+=("$PY_PEAK") HOST_PEAKS+=("$ORCH_HOST_PEAK")
  echo "round $round ($( ((round % 2)) && echo "orch first" || echo "python first")):" \
    "wall orch $ORCH_WALL s, python $PY_WALL s, ratio ${WALL_RATIOS[-1]};" \
    "peak orch worker $(mib "$ORCH_PEAK") MiB, python $(mib "$PY_PEAK") MiB," \
    "ratio ${PEAK_RATIOS[-1]}; orch host $(mib "$ORCH_HOST_PEAK") MiB"
  echo "  trained: orch $ORCH_STEPS steps ($ORCH_WARMUP of them untimed warm-up) /" \
    "$ORCH_SAMPLES samples, python $PY_STEPS steps / $PY_SAMPLES samples;" \
    "orch runs: $ORCH_RUN_WALLS; python processes: $PY_DETAIL"
done

echo "medians over $ROUNDS round(s):"
echo "  wall: orch $(median "${ORCH_WALLS[@]}") s, python $(median "${PY_WALLS[@]}") s," \
  "orch/python $(median "${WALL_RATIOS[@]}") (target <= 0.8)"
echo "  peak: orch worker $(mib "$(median "${ORCH_PEAKS[@]}")") MiB," \
  "python $(mib "$(median "${PY_PEAKS[@]}")") MiB, orch/python $(median "${PEAK_RATIOS[@]}")" \
  "(target <= 0.8); orch host process $(mib "$(median "${HOST_PEAKS[@]}")") MiB"
echo "RESULT mnist_sweep_wall_ratio $(median "${WALL_RATIOS[@]}") target<=0.8"
echo "RESULT mnist_sweep_peak_ratio $(median "${PEAK_RATIOS[@]}") target<=0.8"
echo "RESULT mnist_sweep_orch_wall_s $(median "${ORCH_WALLS[@]}")"
echo "RESULT mnist_sweep_python_wall_s $(median "${PY_WALLS[@]}")"
echo "RESULT mnist_sweep_orch_worker_peak_bytes $(median_int "${ORCH_PEAKS[@]}")"
echo "RESULT mnist_sweep_python_peak_bytes $(median_int "${PY_PEAKS[@]}")"
echo "RESULT mnist_sweep_orch_host_peak_bytes $(median_int "${HOST_PEAKS[@]}")"
