#!/usr/bin/env bash
# End-to-end test of `orch submit --slurm` on a real one-node Slurm cluster started just for
# it (scripts/slurm-local.sh): a 6-run sweep goes out as a 3-task job array at most 2 at
# once, every run finishes ok in its shard database, `orch status` says so, and `orch merge`
# folds the shards into the main database, twice without adding anything.
#
#   slurm_submit_test.sh ORCH_BINARY PLUGIN_DIR_OR_EMPTY
#
# Exit 0: passed; 1: failed (what failed, the Slurm logs and the tasks' output are printed);
# 77: skipped (not root, or Slurm/munge/sqlite3 not installed; ctest reports it as skipped).
set -uo pipefail

# CMake may drop an empty last argument, so PLUGIN_DIR may be missing as well as empty.
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 ORCH_BINARY [PLUGIN_DIR_OR_EMPTY]" >&2
  exit 2
fi
orch=$1
plugin_dir=${2:-}
unset SLURM_CONF  # only the cluster started below
here=$(cd "$(dirname "$0")" && pwd)
slurm_local=$here/../../scripts/slurm-local.sh

if [ "$(id -u)" -ne 0 ]; then
  echo "skipped: needs root to run slurmd (it starts jobs as their user)"
  exit 77
fi
for c in munged slurmctld slurmd sbatch squeue scontrol sqlite3; do
  if ! command -v "$c" >/dev/null 2>&1; then
    echo "skipped: $c is not installed (scripts/install-deps.sh --tests installs slurmctld slurmd slurm-client munge sqlite3)"
    exit 77
  fi
done
if [ ! -x "$orch" ]; then
  echo "FAIL: orch binary '$orch' is not executable" >&2
  exit 1
fi

# Short: slurmd and munged put Unix sockets (108-byte paths) under it.
t=$(mktemp -d /tmp/orch_slurm_XXXXXX)
slurm_dir=$t/slurm
experiment=slurm_e2e
shard_dir=$t/main-shards/$experiment
job_id=""
last_out=""

cleanup() {
  "$slurm_local" stop "$slurm_dir" >/dev/null 2>&1 || true
  rm -rf "$t"
}
trap cleanup EXIT

diagnostics() {
  echo "----- last orch output -----"
  echo "$last_out"
  if [ -n "${SLURM_CONF:-}" ]; then
    echo "----- squeue -----"
    squeue 2>&1
    if [ -n "$job_id" ]; then
      echo "----- scontrol show job $job_id -----"
      scontrol show job "$job_id" 2>&1 | grep -E 'JobId=|JobState=|ExitCode=|StartTime='
    fi
  fi
  local f
  for f in "$slurm_dir"/log/*; do
    [ -s "$f" ] || continue
    echo "----- tail of $f -----"
    tail -n 40 "$f"
  done
  for f in "$shard_dir"/job.sbatch "$shard_dir"/slurm-*.out; do
    [ -f "$f" ] || continue
    echo "----- $f -----"
    tail -n 60 "$f"
  done
}

fail() {
  echo "FAIL: $*"
  diagnostics
  exit 1
}

# Runs orch with its output kept for the diagnostics; echoes it; returns orch's exit code.
orch_cmd=("$orch" --db "$t/main.db")
[ -n "$plugin_dir" ] && orch_cmd+=(--plugin-dir "$plugin_dir")
run_orch() {
  local rc=0
  last_out=$("${orch_cmd[@]}" "$@" 2>&1) || rc=$?
  last_out="\$ orch $*  (exit $rc)"$'\n'"$last_out"
  return "$rc"
}

start_s=$SECONDS
started=$("$slurm_local" start "$slurm_dir" 2>"$t/slurm-start.err") ||
  fail "scripts/slurm-local.sh start: $(cat "$t/slurm-start.err")"
eval "$started"
[ -n "${SLURM_CONF:-}" ] || fail "slurm-local.sh start printed no SLURM_CONF: '$started'"
echo "slurm up in $((SECONDS - start_s)) s ($SLURM_CONF)"

cd "$t" || fail "cannot enter $t"
# Small and quick; a fixed 1 GiB budget keeps --mem far below the node's memory on any
# machine, so two tasks fit side by side.
cat >"$t/exp.toml" <<'EOF'
[experiment]
name = "slurm_e2e"
seed = 42
repeats = 1

[backend]
plugin = "cpu"
threads = 1

[dataset]
plugin = "synthetic"
samples = 256
val_samples = 64
features = 8
classes = 4

[model]
plugin = "mlp"
hidden = 16
layers = 1

[train]
epochs = 1
batch_size = 8
optimizer = "adam"
lr = 1e-3
memory_limit = "1GiB"

[sweep]                       # 3 x 2 = 6 runs
"train.batch_size" = [4, 8, 16]
"train.lr" = [0.01, 0.001]
EOF

# 1. --dry-run prints the job script and submits nothing.
run_orch submit --slurm "$t/exp.toml" --array-parallelism 2 --shards 3 --dry-run ||
  fail "submit --dry-run exited non-zero"
grep -qxF '#SBATCH --array=0-2%2' <<<"$last_out" ||
  fail "submit --dry-run printed no '#SBATCH --array=0-2%2' line"
grep -q '^#SBATCH --mem=' <<<"$last_out" || fail "submit --dry-run printed no '#SBATCH --mem=' line"
queued=$(squeue -h 2>&1) || fail "squeue failed: $queued"
[ -z "$queued" ] || fail "submit --dry-run submitted something: squeue shows '$queued'"

# 2. The real submission: one job array, its script and manifest in the shard directory.
run_orch submit --slurm "$t/exp.toml" --array-parallelism 2 --shards 3 ||
  fail "submit exited non-zero"
job_id=$(sed -n 's/^slurm job: \([0-9][0-9]*\)$/\1/p' <<<"$last_out" | head -n 1)
[ -n "$job_id" ] || fail "submit printed no 'slurm job: <JOBID>' line"
echo "submitted slurm job $job_id"
[ -f "$shard_dir/job.sbatch" ] || fail "no $shard_dir/job.sbatch"
[ -f "$shard_dir/manifest.json" ] || fail "no $shard_dir/manifest.json"

# 3. Wait (bounded) until the whole array has left the queue.
wait_s=$SECONDS
while :; do
  queued=$(squeue -h 2>&1) || fail "squeue failed while waiting for job $job_id: $queued"
  [ -z "$queued" ] && break
  [ $((SECONDS - wait_s)) -lt 300 ] || fail "job $job_id still queued after 300 s: $queued"
  sleep 1
done
echo "job $job_id done in $((SECONDS - wait_s)) s"
for i in 0 1 2; do
  [ -f "$shard_dir/shard-$i.db" ] || fail "array task $i wrote no $shard_dir/shard-$i.db"
done

# 4. status counts all 6 runs done.
run_orch status "$t/exp.toml" || fail "status exited non-zero"
grep -Eq '(^|[^[:alnum:]_])done 6([^0-9]|$)' <<<"$last_out" || fail "status does not say 'done 6'"

# 5. merge folds the shards in; merging again adds nothing.
run_orch merge || fail "merge exited non-zero"
ok=$(sqlite3 "$t/main.db" "SELECT COUNT(*) FROM runs WHERE status='ok'" 2>&1) ||
  fail "sqlite3 on main.db: $ok"
[ "$ok" = 6 ] || fail "after merge main.db has $ok runs with status ok, expected 6"
keys=$(sqlite3 "$t/main.db" "SELECT COUNT(DISTINCT run_key) FROM runs" 2>&1)
[ "$keys" = 6 ] || fail "after merge main.db has $keys distinct run keys, expected 6"
total=$(sqlite3 "$t/main.db" "SELECT COUNT(*) FROM runs" 2>&1)
run_orch merge || fail "second merge exited non-zero"
again=$(sqlite3 "$t/main.db" "SELECT COUNT(*) FROM runs" 2>&1)
[ "$again" = "$total" ] || fail "second merge changed the runs count from $total to $again"
ok=$(sqlite3 "$t/main.db" "SELECT COUNT(*) FROM runs WHERE status='ok'" 2>&1)
[ "$ok" = 6 ] || fail "after the second merge main.db has $ok runs with status ok, expected 6"

echo "PASS: 6 runs in 3 array tasks of slurm job $job_id, merged (twice) into main.db"
