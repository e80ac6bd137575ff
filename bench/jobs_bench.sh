#!/usr/bin/env bash
# Sweep throughput of `orch run -j 2` against `-j 1` on single-thread runs: the same
# 8-run sweep (an MLP on synthetic data, threads = 1, about 2 s a run), timed as the wall
# time of the whole command, rounds alternating which goes first; prints the median ratio.
#
#   bench/jobs_bench.sh ORCH_BINARY [--rounds R] [--smoke]
set -euo pipefail
orch=$1; shift
rounds=3
samples=40000
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --smoke) rounds=1; samples=2000; shift ;;
    *) echo "jobs_bench: unknown flag $1" >&2; exit 2 ;;
  esac
done
dir=$(mktemp -d /tmp/orch_jobs_bench_XXXXXX)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/sweep.toml" <<TOML
[experiment]
name = "jobs_bench"
seed = 1

[backend]
plugin = "cpu"
threads = 1

[dataset]
plugin = "synthetic"
samples = $samples
val_samples = 512
features = 32

[model]
plugin = "mlp"
hidden = 128

[train]
epochs = 1

[sweep]
"train.batch_size" = [8, 16]
"train.lr" = [0.01, 0.003, 0.001, 0.0003]
TOML

wall() {  # wall seconds of one sweep into a fresh database
  local jobs=$1 db="$dir/j$1-$2.db" start end
  start=$(date +%s.%N)
  "$orch" run "$dir/sweep.toml" --db "$db" -j "$jobs" > "$dir/out-$jobs.txt" 2>&1 ||
    { cat "$dir/out-$jobs.txt" >&2; exit 1; }
  end=$(date +%s.%N)
  ok=$(sqlite3 "$db" "SELECT COUNT(*) FROM runs WHERE status = 'ok'")
  [ "$ok" = 8 ] || { echo "jobs_bench: only $ok of 8 runs ok with -j $jobs" >&2; exit 1; }
  awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f", b - a}'
}

ratios=()
echo "round   -j 1 s   -j 2 s   speed-up"
for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) -eq 1 ]; then one=$(wall 1 "$round"); two=$(wall 2 "$round")
  else two=$(wall 2 "$round"); one=$(wall 1 "$round"); fi
  ratio=$(awk -v a="$one" -v b="$two" 'BEGIN {printf "%.4f", a / b}')
  ratios+=("$ratio")
  printf "%5d  %7.2f  %7.2f  %9.2fx\n" "$round" "$one" "$two" "$ratio"
done
median=$(printf "%s\n" "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
printf "RESULT jobs2_speedup %.3f target>=1.8\n" "$median"
