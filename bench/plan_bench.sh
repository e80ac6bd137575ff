#!/usr/bin/env bash
# How long `orch plan` takes for a sweep at the 100,000-combination cap, and its peak memory.
#
#   bench/plan_bench.sh ORCH_BINARY [--rounds R] [--keep DIR]
#
# Two experiment files, both mlp on synthetic data and exactly 100,000 combinations:
#   grid   five list axes of 10 values each (train.batch_size, train.lr, model.hidden,
#          train.epochs, dataset.samples);
#   rules  the same size written with ranges (step, count and log), a [[sweep.zip]] group
#          and a [[sweep.exclude]] rule that removes 1,000 combinations.
#   train  five [train] axes of 10 values each (batch_size, lr, epochs, warmup_steps,
#          weight_decay): the keys users sweep most, and the case where plan must not
#          check each run's [train] section on its own (it took 3.4 s and 715 MiB so).
#   one   the same experiment without a sweep: what any `orch plan` costs (starting the
#         binary, which loads LibTorch, and the plugins), to tell it from the expansion.
# Each file is planned R times with the output to /dev/null (the figure), then to a file
# (what printing costs when the output is kept). Wall time depends on what else the
# machine runs; CPU time (user + sys) much less, so both are given. Prints one line per
# round, medians, and
#   RESULT plan_100k_s <median wall> target<=1
#   RESULT plan_100k_peak_rss_mib <n>
# for the grid file. Needs /usr/bin/time (Debian package `time`).
set -euo pipefail

usage() { echo "usage: $0 ORCH_BINARY [--rounds R] [--keep DIR]" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
orch=$1
shift
rounds=5
keep=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) rounds=${2:?}; shift 2 ;;
    --keep) keep=${2:?}; shift 2 ;;
    *) usage ;;
  esac
done
[[ -x $orch ]] || { echo "$0: $orch is not an executable orch binary" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "$0: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

dir=${keep:-$(mktemp -d)}
mkdir -p "$dir"
[[ -n $keep ]] || trap 'rm -rf "$dir"' EXIT

head_of_file() {
  cat <<EOF
[experiment]
name = "$1"
seed = 7
repeats = 1

[backend]
plugin = "cpu"
threads = 1

[dataset]
plugin = "synthetic"
samples = 1024
val_samples = 256
features = 16
classes = 4

[model]
plugin = "mlp"
hidden = 32
layers = 2

[train]
epochs = 1
batch_size = 8
optimizer = "adam"
lr = 1e-3

EOF
}

head_of_file plan_bench_one >"$dir/one.toml"

{
  head_of_file plan_bench_grid
  cat <<'EOF'
[sweep]                       # 10 x 10 x 10 x 10 x 10 = 100,000 combinations
"train.batch_size" = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
"train.lr" = [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 1e-1]
"model.hidden" = [8, 16, 24, 32, 48, 64, 96, 128, 192, 256]
"train.epochs" = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
"dataset.samples" = [256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2304, 2560]
EOF
} >"$dir/grid.toml"

{
  head_of_file plan_bench_train
  cat <<'EOF'
[sweep]                       # 10 x 10 x 10 x 10 x 10 = 100,000 combinations of [train]
"train.batch_size" = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
"train.lr" = [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 1e-1]
"train.epochs" = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
"train.warmup_steps" = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
"train.weight_decay" = [0.0, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3]
EOF
} >"$dir/train.toml"

{
  head_of_file plan_bench_rules
  cat <<'EOF'
[sweep]                       # 10 x 10 x 10 x 10 x 10 = 100,000 combinations, 1,000 excluded
"train.batch_size" = { from = 1, to = 10, step = 1 }
"train.lr" = { from = 1e-4, to = 1e-1, count = 10, scale = "log" }
"train.epochs" = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
"dataset.samples" = { from = 256, to = 2560, count = 10 }

[[sweep.zip]]
"model.hidden" = [8, 16, 24, 32, 48, 64, 96, 128, 192, 256]
"model.layers" = [1, 1, 2, 2, 2, 3, 3, 3, 4, 4]

[[sweep.exclude]]
"train.batch_size" = { at_least = 10 }
"train.epochs" = 1
EOF
} >"$dir/rules.toml"

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# One timed plan: "<wall seconds> <peak RSS KiB> <user + sys seconds>" (wall to the
# millisecond, which /usr/bin/time's %e does not give). Output goes to $2.
plan_once() {
  local file=$1 out=$2 start end
  start=$(date +%s%N)
  /usr/bin/time -f '%M %U %S' -o "$dir/time.txt" "$orch" plan "$file" --db "$dir/none.db" \
    >"$out" 2>"$dir/stderr.txt" ||
    { echo "$0: orch plan $file failed:" >&2; cat "$dir/stderr.txt" >&2; exit 1; }
  end=$(date +%s%N)
  tail -n 1 "$dir/time.txt" | awk -v ns=$((end - start)) '{ printf "%.3f %d %.2f\n", ns / 1e9, $1, $2 + $3 }'
}

# Checks the plan lists every configuration: a cheap guard against timing a failure.
check_rows() {
  local out=$1 want=$2 got
  got=$(grep -c ' would run$' "$out" || true)
  [[ $got -eq $want ]] || { echo "$0: expected $want runs in $out, found $got" >&2; exit 1; }
}

declare -A wall cpu rss
cases=(one.null grid.null grid.file rules.null rules.file train.null)
for round in $(seq 1 "$rounds"); do
  for case in "${cases[@]}"; do
    name=${case%.*} sink=${case#*.}
    out=/dev/null
    [[ $sink == file ]] && out="$dir/$name.plan.txt"
    read -r seconds kib cpu_s < <(plan_once "$dir/$name.toml" "$out")
    [[ $sink == file ]] && check_rows "$out" $([[ $name == grid ]] && echo 100000 || echo 99000)
    wall[$case]+="$seconds "
    cpu[$case]+="$cpu_s "
    rss[$case]+="$((kib / 1024)) "
    printf 'round %s  %-5s > %-4s  %s s wall  %s s cpu  %s MiB\n' "$round" "$name" "$sink" \
      "$seconds" "$cpu_s" "$((kib / 1024))"
  done
done

med() { tr ' ' '\n' <<<"$1" | grep . | median; }
most() { tr ' ' '\n' <<<"$1" | grep . | sort -n | tail -n 1; }
echo
printf '%-6s %-5s %12s %11s %13s\n' file sink median_wall_s median_cpu_s peak_rss_mib
for case in "${cases[@]}"; do
  printf '%-6s %-5s %12s %11s %13s\n' "${case%.*}" "${case#*.}" "$(med "${wall[$case]}")" \
    "$(med "${cpu[$case]}")" "$(most "${rss[$case]}")"
done
echo
echo "RESULT plan_100k_s $(med "${wall[grid.null]}") target<=1"
echo "RESULT plan_100k_peak_rss_mib $(most "${rss[grid.null]}")"
echo "RESULT plan_100k_cpu_s $(med "${cpu[grid.null]}")"
echo "RESULT plan_1_s $(med "${wall[one.null]}")"
echo "RESULT plan_100k_rules_s $(med "${wall[rules.null]}")"
echo "RESULT plan_100k_to_file_s $(med "${wall[grid.file]}")"
echo "RESULT plan_100k_train_s $(med "${wall[train.null]}")"
echo "RESULT plan_100k_train_peak_rss_mib $(most "${rss[train.null]}")"
