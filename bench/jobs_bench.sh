#!/usr/bin/env bash
# Sweep throughput of `orch run -j 2` against `-j 1` on single-thread runs: the same
# 8-run sweep (an MLP on synthetic data, threads = 1, about 2 s a run), timed as the wall
# time of the whole command, rounds alternating which goes first; prints the median ratio.
# Two figures explain it: the seconds orch spends outside its runs (starting, which is
# loading LibTorch, and exiting), which stay serial at any -j, and the speed-up of the runs
# alone, from the first worker's start to the last run's end (read from the database).
#
#   bench/jobs_bench.sh ORCH_BINARY [--rounds R] [--smoke]
set -euo pipefail
orch=$1; shift
rounds=5
samples=50000
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

# "<wall s> <runs s>" of one sweep into a fresh database: the whole command, and from the
# first worker's start (its started_at less its start_s, which began at the fork) to the
# last run's end.
sweep() {
  local jobs=$1 db="$dir/j$1-$2.db" start end
  start=$(date +%s.%N)
  "$orch" run "$dir/sweep.toml" --db "$db" -j "$jobs" > "$dir/out-$jobs.txt" 2>&1 ||
    { cat "$dir/out-$jobs.txt" >&2; exit 1; }
  end=$(date +%s.%N)
  ok=$(sqlite3 "$db" "SELECT COUNT(*) FROM runs WHERE status = 'ok'")
  [ "$ok" = 8 ] || { echo "jobs_bench: only $ok of 8 runs ok with -j $jobs" >&2; exit 1; }
  runs=$(sqlite3 "$db" "SELECT (julianday(MAX(finished_at)) - julianday(MIN(started_at))) * 86400
                               + (SELECT start_s FROM runs ORDER BY started_at LIMIT 1) FROM runs")
  awk -v a="$start" -v b="$end" -v r="$runs" 'BEGIN {printf "%.3f %.3f\n", b - a, r}'
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ratios=() fixed=() run_ratios=()
echo "round   -j 1 s   -j 2 s   speed-up   outside runs s (-j 1, -j 2)   runs alone speed-up"
for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) -eq 1 ]; then
    read -r one one_runs < <(sweep 1 "$round"); read -r two two_runs < <(sweep 2 "$round")
  else
    read -r two two_runs < <(sweep 2 "$round"); read -r one one_runs < <(sweep 1 "$round")
  fi
  ratio=$(awk -v a="$one" -v b="$two" 'BEGIN {printf "%.4f", a / b}')
  run_ratio=$(awk -v a="$one_runs" -v b="$two_runs" 'BEGIN {printf "%.4f", a / b}')
  fixed+=("$(awk -v a="$one" -v b="$one_runs" 'BEGIN {printf "%.3f", a - b}')"
          "$(awk -v a="$two" -v b="$two_runs" 'BEGIN {printf "%.3f", a - b}')")
  ratios+=("$ratio") run_ratios+=("$run_ratio")
  printf "%5d  %7.2f  %7.2f  %8.2fx   %13.2f, %.2f  %22.2fx\n" "$round" "$one" "$two" "$ratio" \
    "${fixed[-2]}" "${fixed[-1]}" "$run_ratio"
done
printf "RESULT jobs2_speedup %.3f target>=1.8\n" "$(printf "%s\n" "${ratios[@]}" | median)"
printf "RESULT jobs_orch_fixed_s %.3f\n" "$(printf "%s\n" "${fixed[@]}" | median)"
printf "RESULT jobs_runs_speedup %.3f\n" "$(printf "%s\n" "${run_ratios[@]}" | median)"
