#!/usr/bin/env bash
# The whole benchmark suite in one command: orch against what users run today, side by
# side, each figure a median of several rounds. Prints the table and leaves it in
# BUILD/bench-results.md (the logs of every benchmark beside it in BUILD/bench-logs/).
#
#   bench/run.sh [--build DIR] [--smoke] [--no-build]
#
# --smoke runs every benchmark once on tiny sizes (about a minute): CI runs it so that
# the suite cannot rot. Its numbers say nothing; targets are judged only without --smoke.
# Run the real thing on a quiet machine: other processes make every figure worse.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
smoke=""
build_first=1
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --smoke) smoke=--smoke; shift ;;
    --no-build) build_first=""; shift ;;  # ctest: everything is built already
    *) echo "bench/run.sh: unknown flag $1 (use --build DIR, --smoke, --no-build)" >&2; exit 2 ;;
  esac
done
bin=$build/bin
[ -z "$build_first" ] || cmake --build "$build" -j"$(nproc)" --target orch overhead_bench store_bench torch_start_bench search_replay \
  orch_backend_cpu orch_dataset_synthetic orch_model_mlp orch_dataset_mnist orch_model_mnist_cnn \
  orch_model_torchscript \
  > /dev/null
[ -d data/mnist ] || bash scripts/fetch-mnist.sh

# A smoke run never overwrites the results of a real one.
logs=$build/bench-logs${smoke:+-smoke}
mkdir -p "$logs"
results=$logs/results.txt
: > "$results"

# Runs one benchmark, keeps its output, and collects its RESULT lines.
bench() {
  local name=$1; shift
  echo "== $name: $*" >&2
  local start=$SECONDS
  if ! "$@" > "$logs/$name.log" 2>&1; then
    echo "bench/run.sh: $name failed; its output:" >&2
    cat "$logs/$name.log" >&2
    exit 1
  fi
  grep '^RESULT ' "$logs/$name.log" >> "$results" || true
  echo "   $((SECONDS - start)) s" >&2
}

if [ -n "$smoke" ]; then
  bench overhead "$bin/overhead_bench" --rounds 1 --samples 1024 --batch 8 --threads 1
else
  bench overhead "$bin/overhead_bench" --rounds 5 --samples 16384 --batch 8 --threads 1
fi
bench start_cost bash bench/start_cost_bench.sh "$bin/orch" "$bin/torch_start_bench" $smoke
bench mnist_sweep bash bench/mnist_sweep_bench.sh "$bin/orch" $smoke
if [ -n "$smoke" ]; then
  bench store "$bin/store_bench" --rounds 1 --epochs 2 --steps 10000
  bench plan bash bench/plan_bench.sh "$bin/orch" --rounds 1
else
  bench store "$bin/store_bench" --rounds 5
  bench plan bash bench/plan_bench.sh "$bin/orch" --rounds 5
fi
bench jobs bash bench/jobs_bench.sh "$bin/orch" $smoke
bench probe bash bench/probe_bench.sh "$bin/orch" $smoke
bench search_replay "$bin/search_replay" bench/data/search_replay.db $smoke
bench torchscript bash bench/torchscript_bench.sh "$bin/orch" $smoke

# RESULT <name> <value> [target<=X | target>=X]
describe() {
  case $1 in
    orch_vs_bare_samples_per_s) echo "training samples/s under orch / bare LibTorch loop (same model, batch, threads)" ;;
    orch_run_start_s) echo "per-run start cost, s (worker fork to first training step)" ;;
    fresh_torch_process_start_s) echo "starting a fresh process that loads LibTorch, s" ;;
    mnist_sweep_wall_ratio) echo "MNIST CNN sweep (batch 2/8/16) wall time, orch / PyTorch script" ;;
    mnist_sweep_peak_ratio) echo "MNIST CNN sweep peak memory, orch worker / PyTorch script" ;;
    mnist_sweep_orch_wall_s) echo "MNIST CNN sweep wall time under orch, s" ;;
    mnist_sweep_python_wall_s) echo "MNIST CNN sweep wall time, PyTorch script per configuration, s" ;;
    metric_rows_per_s) echo "metric rows recorded per second into SQLite" ;;
    plan_100k_s) echo "\`orch plan\` of a 100,000-point grid, s" ;;
    plan_100k_peak_rss_mib) echo "\`orch plan\` of a 100,000-point grid, peak memory, MiB" ;;
    jobs2_speedup) echo "sweep throughput, \`-j 2\` / \`-j 1\` (single-thread runs, 2 cores)" ;;
    mnist_sweep_orch_worker_peak_bytes) echo "MNIST CNN sweep, orch worker peak RSS, bytes" ;;
    mnist_sweep_python_peak_bytes) echo "MNIST CNN sweep, PyTorch script peak RSS, bytes" ;;
    mnist_sweep_orch_host_peak_bytes) echo "MNIST CNN sweep, orch host process peak RSS, bytes" ;;
    plan_100k_cpu_s) echo "\`orch plan\` of 100,000 points, CPU s" ;;
    plan_1_s) echo "\`orch plan\` of a file without a sweep, s (the binary's start)" ;;
    plan_100k_rules_s) echo "\`orch plan\` of 100,000 points written with ranges, zip and exclude, s" ;;
    plan_100k_to_file_s) echo "\`orch plan\` of 100,000 points printed to a file, s" ;;
    plan_100k_train_s) echo "\`orch plan\` of 100,000 points, every axis a [train] key, s" ;;
    plan_100k_train_peak_rss_mib) echo "\`orch plan\` of 100,000 [train] points, peak memory, MiB" ;;
    jobs_orch_fixed_s) echo "\`orch run\` outside its runs (start and exit), s: serial at any -j" ;;
    jobs_runs_speedup) echo "\`-j 2\` / \`-j 1\` from the first run's start to the last run's end" ;;
    probe_*_answer_full_run_ok) echo "${1#probe_}: the full run at \`orch probe\`'s answer finished ok (1) under the budget" | sed 's/_answer_full_run_ok//' ;;
    probe_*_answer_ratio) echo "${1#probe_}: probe answer / largest batch whose full run fits" | sed 's/_answer_ratio//' ;;
    probe_*_seconds) echo "${1#probe_}: \`orch probe\` wall time, s" | sed 's/_seconds//' ;;
    probe_*_trials) echo "${1#probe_}: \`orch probe\` trials" | sed 's/_trials//' ;;
    search_replay_*_in_tie_set) echo "${1#search_replay_}: share of seeds whose winner is in the recorded grid's tie set" | sed 's/_in_tie_set//' ;;
    torchscript_vs_cpp_step) echo "mnist_cnn exported from Python (torchscript plugin): median step / the C++ plugin's" ;;
    torchscript_vs_python_step) echo "mnist_cnn exported from Python under orch: median step / a PyTorch training loop's" ;;
    search_replay_*_compute) echo "${1#search_replay_}: epochs trained / the grid's (median over seeds)" | sed 's/_compute//' ;;
    *) echo "$1" ;;
  esac
}
# Every figure of the suite must be there: a benchmark that stopped printing one has rotted.
for name in orch_vs_bare_samples_per_s orch_run_start_s fresh_torch_process_start_s \
            mnist_sweep_wall_ratio mnist_sweep_peak_ratio metric_rows_per_s plan_100k_s \
            jobs2_speedup probe_unet_answer_ratio probe_unet_answer_full_run_ok \
            search_replay_bayes_asha3_24_in_tie_set search_replay_bayes_asha1r4p_40_in_tie_set \
            torchscript_vs_cpp_step; do
  if ! grep -q "^RESULT $name " "$results"; then
    echo "bench/run.sh: no figure '$name' in the output (see $logs/)" >&2
    exit 1
  fi
done
table=$build/bench-results${smoke:+-smoke}.md
{
  echo "# orch benchmarks ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores${smoke:+, SMOKE: tiny sizes, not a measurement})"
  echo
  echo "| figure | measured | target | met |"
  echo "|---|---|---|---|"
  while read -r _ name value target; do
    verdict="-"
    goal=""
    if [ -n "${target:-}" ]; then
      goal=${target#target}
      bound=${goal:2}
      case $goal in
        '<='*) verdict=$(awk -v v="$value" -v b="$bound" 'BEGIN {print (v <= b) ? "yes" : "no"}') ;;
        '>='*) verdict=$(awk -v v="$value" -v b="$bound" 'BEGIN {print (v >= b) ? "yes" : "no"}') ;;
      esac
      [ -n "$smoke" ] && verdict="(smoke)"
    fi
    echo "| $(describe "$name") | $value | ${goal:--} | $verdict |"
  done < "$results"
  echo
  echo "Logs of each benchmark: $logs/"
} > "$table"
cat "$table"
