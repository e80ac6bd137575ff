#!/usr/bin/env bash
# What `orch probe` costs and whether its answer holds, on three shipped models.
#
#   bench/probe_bench.sh ORCH_BINARY [--smoke] [--keep DIR] [--model NAME ...]
#
# For each model (unet on 128x128 synthetic masks, multitask_transformer on synthetic
# sequences, mnist_cnn on synthetic 28x28 images), under a memory budget that makes the answer
# a few dozen samples or less:
#   1. `orch probe --again`: the trials and rehearsed epochs it ran, its wall seconds and
#      its answer A;
#   2. three full runs at A (one epoch and validation each): does the answer fit every time?
#   3. the long way, as a user who distrusts it would: full runs (training epoch and
#      validation) at A, A+5%, A+10% ... A+40%, in ascending order with on_oom = "stop",
#      so the largest batch whose whole run fits is known to within 5%.
# Prints one line per model and
#   RESULT probe_<model>_answer_full_runs_ok <n>    target>=3 (of the three full runs at A)
#   RESULT probe_<model>_answer_full_run_ok 1|0     target>=1 (the long way's run at A finished ok)
#   RESULT probe_<model>_answer_ratio <A / largest>   target>=0.85 (not timid)
#   RESULT probe_<model>_seconds <probe wall s>
#   RESULT probe_<model>_trials <n>
#   RESULT probe_<model>_rehearsals <n>       (epochs run at a candidate answer)
# A ratio with every size up to A+40% fitting would still be timid: the line says
# ">=" when every size of the long way fitted. --smoke: unet on tiny images only, trials
# from batch 16, and the long way tries only A and A+40%: it checks that the bench runs.
set -euo pipefail

usage() { echo "usage: $0 ORCH_BINARY [--smoke] [--keep DIR] [--model NAME ...]" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
orch=$1
shift
smoke=""
keep=""
only=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --smoke) smoke=1; shift ;;
    --keep) keep=${2:?}; shift 2 ;;
    --model) only+=("${2:?}"); shift 2 ;;
    *) usage ;;
  esac
done
[[ -x $orch ]] || { echo "$0: $orch is not an executable orch binary" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "$0: needs sqlite3 (apt-get install sqlite3)" >&2; exit 2; }

dir=${keep:-$(mktemp -d)}
mkdir -p "$dir"
[[ -n $keep ]] || trap 'rm -rf "$dir"' EXIT

# experiment_file NAME BUDGET DATASET_TOML MODEL_TOML TRAIN_TOML [SWEEP_TOML]
experiment_file() {
  cat <<EOF
[experiment]
name = "$1"
seed = 0

[backend]
plugin = "cpu"
threads = 2

[dataset]
$3

[model]
$4

[train]
epochs = 1
memory_limit = "$2"
$5
${6:-}
EOF
}

declare -A budget dataset model train
names=(unet multitask_transformer mnist_cnn)
budget[unet]=1GiB
dataset[unet]=$'plugin = "synthetic_segmentation"\nsamples = 512\nval_samples = 512\nheight = 128\nwidth = 128'
model[unet]=$'plugin = "unet"\ndepth = 3\nwidth = 16'
train[unet]=$'batch_size = "auto"\noptimizer = "adamw"\nlr = 1e-3'
budget[multitask_transformer]=1GiB
dataset[multitask_transformer]=$'plugin = "synthetic_sequences"\nsamples = 256\nval_samples = 64\nseq_len = 192\nfeatures = 768\ntasks = 3'
model[multitask_transformer]=$'plugin = "multitask_transformer"\nd_model = 256\nheads = 4\nlayers = 2'
train[multitask_transformer]=$'batch_size = "auto"\noptimizer = "adam"\nlr = 3e-4'
budget[mnist_cnn]=384MiB
dataset[mnist_cnn]=$'plugin = "synthetic_images"\nsamples = 4096\nval_samples = 1024'
model[mnist_cnn]=$'plugin = "mnist_cnn"'
train[mnist_cnn]=$'batch_size = "auto"\noptimizer = "adam"\nlr = 1e-4'
if [[ -n $smoke ]]; then
  names=(unet)
  budget[unet]=256MiB
  dataset[unet]=$'plugin = "synthetic_segmentation"\nsamples = 128\nval_samples = 16\nheight = 32\nwidth = 32'
fi

[[ ${#only[@]} -gt 0 ]] && names=("${only[@]}")
for name in "${names[@]}"; do
  [[ -n ${budget[$name]:-} ]] || { echo "$0: no model '$name' (unet, multitask_transformer, mnist_cnn)" >&2; exit 2; }
  db=$dir/$name.db
  probe_file=$dir/$name-probe.toml
  experiment_file "$name" "${budget[$name]}" "${dataset[$name]}" "${model[$name]}" \
    "${train[$name]}" >"$probe_file"
  start=$(date +%s.%N)
  "$orch" probe "$probe_file" --db "$db" --again ${smoke:+--start 16} >"$dir/$name-probe.log" 2>&1 ||
    { echo "$name: orch probe failed; see $dir/$name-probe.log" >&2; cat "$dir/$name-probe.log" >&2; exit 1; }
  seconds=$(echo "$(date +%s.%N) - $start" | bc)
  answer=$(sqlite3 "$db" "SELECT max_batch_size FROM probe_answers ORDER BY rowid DESC LIMIT 1")
  trials=$(sqlite3 "$db" "SELECT COUNT(*) FROM probe_trials WHERE kind = 'trial'")
  rehearsals=$(sqlite3 "$db" "SELECT COUNT(*) FROM probe_trials WHERE kind = 'rehearsal'")
  [[ $answer -ge 1 ]] || { echo "$name: probe found no batch size that fits" >&2; exit 1; }
  if grep -q "the whole training split" "$dir/$name-probe.log"; then
    echo "$name: the whole training split fits in ${budget[$name]}; lower the budget to measure" >&2
    exit 1
  fi

  # What the user does next, three times: the full run at the answer.
  repeat_file=$dir/$name-repeat.toml
  experiment_file "$name-repeat" "${budget[$name]}" "${dataset[$name]}" "${model[$name]}" \
    "$(echo "${train[$name]}" | sed "s/^batch_size = .*/batch_size = $answer/")" |
    sed 's/^seed = 0$/seed = 0\nrepeats = 3/' >"$repeat_file"
  "$orch" run "$repeat_file" --db "$dir/$name-repeat.db" >"$dir/$name-repeat.log" 2>&1 ||
    { echo "$name: the runs at the answer failed; see $dir/$name-repeat.log" >&2; exit 1; }
  repeats_ok=$(sqlite3 "$dir/$name-repeat.db" "SELECT COUNT(*) FROM runs WHERE status = 'ok'")
  repeat_peaks=$(sqlite3 "$dir/$name-repeat.db" \
    "SELECT GROUP_CONCAT(CAST(ROUND(peak_rss_bytes / 1048576.0) AS INTEGER), '/') FROM runs")

  # The long way: ascending batch sizes from the answer up, stopping at the first oom.
  sizes=()
  percents=(0 5 10 15 20 25 30 35 40)
  [[ -n $smoke ]] && percents=(0 40)
  for percent in "${percents[@]}"; do
    size=$(( (answer * (100 + percent) + 99) / 100 ))
    [[ ${#sizes[@]} -gt 0 && $size -le ${sizes[-1]} ]] && size=$(( sizes[-1] + 1 ))
    sizes+=("$size")
  done
  long_file=$dir/$name-long.toml
  list=$(IFS=,; echo "${sizes[*]}")
  experiment_file "$name-long" "${budget[$name]}" "${dataset[$name]}" "${model[$name]}" \
    "$(echo "${train[$name]}" | sed 's/^batch_size = .*/batch_size = 1\non_oom = "stop"/')" \
    $'[sweep]\n"train.batch_size" = ['"$list"']' >"$long_file"
  "$orch" run "$long_file" --db "$dir/$name-long.db" >"$dir/$name-long.log" 2>&1 ||
    { echo "$name: the long way failed; see $dir/$name-long.log" >&2; exit 1; }
  status_at_answer=$(sqlite3 "$dir/$name-long.db" \
    "SELECT status FROM runs WHERE batch_size = $answer LIMIT 1")
  largest=$(sqlite3 "$dir/$name-long.db" \
    "SELECT MAX(batch_size) FROM runs WHERE status = 'ok'")
  [[ -n $largest ]] || largest=0
  bound="="
  [[ $largest -eq ${sizes[-1]} ]] && bound=">="
  ratio=$( [[ $largest -gt 0 ]] && echo "scale=2; $answer / $largest" | bc || echo 0)
  printf '%s: %d trials and %d rehearsed epochs in %.1f s, answer %d (full runs at it: %d of 3 ok, peaks %s MiB; in the long way: %s); largest batch whose full run fits %s %d (tried %s); ratio %s\n' \
    "$name" "$trials" "$rehearsals" "$seconds" "$answer" "$repeats_ok" "$repeat_peaks" "$status_at_answer" "$bound" "$largest" "$list" "$ratio"
  echo "RESULT probe_${name}_answer_full_runs_ok $repeats_ok target>=3"
  echo "RESULT probe_${name}_answer_full_run_ok $([[ $status_at_answer == ok ]] && echo 1 || echo 0) target>=1"
  echo "RESULT probe_${name}_answer_ratio $ratio target>=0.85"
  echo "RESULT probe_${name}_seconds $(printf '%.1f' "$seconds")"
  echo "RESULT probe_${name}_trials $trials"
  echo "RESULT probe_${name}_rehearsals $rehearsals"
done
