#!/usr/bin/env bash
# Per-run start cost: how long a run's worker takes from its fork until its first training
# step (runs.start_s: plugins made, data loaded, model built), median over a 6-run sweep;
# against starting a fresh process that loads LibTorch (torch_start_bench).
#
#   bench/start_cost_bench.sh ORCH_BINARY TORCH_START_BENCH [--smoke]
set -euo pipefail
orch=$1 fresh=$2; shift 2
rounds=10
[ "${1:-}" = "--smoke" ] && rounds=3
dir=$(mktemp -d /tmp/orch_start_bench_XXXXXX)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/sweep.toml" <<TOML
[experiment]
name = "start_cost"
seed = 1

[backend]
plugin = "cpu"
threads = 1

[dataset]
plugin = "synthetic"
samples = 2048
features = 32

[model]
plugin = "mlp"
hidden = 128

[train]
epochs = 1

[sweep]
"train.batch_size" = [8, 16, 32]
"train.lr" = [0.01, 0.001]
TOML
"$orch" run "$dir/sweep.toml" --db "$dir/s.db" > "$dir/out.txt" 2>&1 || { cat "$dir/out.txt" >&2; exit 1; }
echo "start_s of each run (fork to first training step):"
sqlite3 "$dir/s.db" "SELECT id, printf('%.4f', start_s) FROM runs ORDER BY id" | tr '\n' ' '; echo
median=$(sqlite3 "$dir/s.db" "SELECT start_s FROM runs WHERE start_s IS NOT NULL ORDER BY start_s" |
         awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
printf "RESULT orch_run_start_s %.4f target<=0.1\n" "$median"
"$fresh" --rounds "$rounds"
