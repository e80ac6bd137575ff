#!/usr/bin/env bash
# Starts and stops a private one-node Slurm cluster (munged + slurmctld + slurmd) on this
# machine with every file it writes in one directory, so tests and CI can submit real sbatch
# job arrays without a system-wide Slurm, systemd or /etc/slurm. Needs root (slurmd runs jobs
# as the user who submitted them) and the Debian packages slurmctld slurmd slurm-client munge
# (`scripts/install-deps.sh --tests` installs them).
#
#   eval "$(scripts/slurm-local.sh start DIR)"   # stdout is one line: export SLURM_CONF=DIR/slurm.conf
#   sbatch --array=0-3%2 --mem=256M --wrap 'hostname'; squeue; sinfo; scontrol show job
#   scripts/slurm-local.sh stop DIR              # safe to call twice, or after a failed start
#
# The client commands (sbatch, squeue, scontrol, sinfo, scancel) find this cluster only
# through SLURM_CONF; progress and errors go to stderr. The node is `hostname -s` at
# 127.0.0.1 with CPUs=$(nproc) and RealMemory = MemTotal minus headroom, partition `debug`,
# select/cons_tres with CR_Core_Memory (so --mem is admitted against RealMemory and counted),
# no cgroups and no accounting daemon. Logs: DIR/log/{munged,slurmctld,slurmd}.log.
# DIR must be short: slurmd and munged put Unix sockets in it (108-byte path limit).
set -euo pipefail

usage() {
  echo "usage: $0 start DIR | stop DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
action=$1
[ -n "$2" ] || usage
case $action in
  start) mkdir -p "$2" ;;
  stop) [ -d "$2" ] || exit 0 ;;  # nothing was ever started there
  *) usage ;;
esac
dir=$(cd "$2" && pwd -P)

# Every daemon started from DIR carries this in its environment; stop uses it to find
# strays (a daemon that died before writing its pid file, slurmstepd left by a killed
# slurmd) and to make sure a pid from a pid file still belongs to us.
marker="ORCH_SLURM_LOCAL_DIR=$dir"

log() { echo "slurm-local: $*" >&2; }

# Pids of processes from DIR, except this shell: those whose environment holds the marker
# (munged, slurmctld, slurmd) and this slurmd's slurmstepds, whichever environment they keep.
# A pid may be listed twice.
marked_pids() {
  local f p
  # One grep over every environment (NUL-separated entries) rather than a process per pid.
  for f in $(grep -lzxF "$marker" /proc/[0-9]*/environ 2>/dev/null); do
    p=${f#/proc/}
    p=${p%/environ}
    [ "$p" != "$$" ] && [ "$p" != "$BASHPID" ] && echo "$p"
  done
  slurmstepds
  return 0
}

# slurmstepds of this slurmd: they run in DIR/log. (No pgrep: procps is not always there.)
slurmstepds() {
  local f p
  for f in $(grep -lx slurmstepd /proc/[0-9]*/comm 2>/dev/null); do
    p=${f#/proc/}
    p=${p%/comm}
    [ "$(readlink 2>/dev/null "/proc/$p/cwd")" = "$dir/log" ] && echo "$p"
  done
  return 0
}

# Descendants of the given pids (the job scripts under a slurmstepd), children first.
descendants() {
  local parent child
  for parent in "$@"; do
    # The command name in field 2 may hold spaces: read the fields after its ')'.
    for child in $(awk -v pp="$parent" '{ pid = $1; sub(/.*\) /, ""); if ($2 == pp) print pid }' \
      /proc/[0-9]*/stat 2>/dev/null); do
      descendants "$child"
      echo "$child"
    done
  done
}

# A zombie counts as gone: here nobody may reap orphans (pid 1 is not always an init).
# Builtins only: this runs for every pid ten times a second while waiting.
alive() {
  local stat
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  stat=${stat##*) }  # the command name before it may hold spaces
  [ -n "$stat" ] && [ "${stat:0:1}" != Z ]
}

# Sends TERM to pids $2..., waits up to $1 tenths of a second for all to exit, then KILLs what is left.
terminate() {
  local tenths=$1
  shift
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null || true
  local i p left
  for ((i = 0; i < tenths; i++)); do
    left=0
    for p in "$@"; do alive "$p" && left=1; done
    [ "$left" -eq 0 ] && return 0
    sleep 0.1
  done
  kill -KILL "$@" 2>/dev/null || true
  for ((i = 0; i < 30; i++)); do
    left=0
    for p in "$@"; do alive "$p" && left=1; done
    [ "$left" -eq 0 ] && return 0
    sleep 0.1
  done
  log "warning: still alive after SIGKILL: $*"
}

# The pid in a pid file if that process is one we started from DIR.
pid_from_file() {
  local f=$1 p
  [ -s "$f" ] || return 0
  p=$(tr -dc '0-9' <"$f")
  [ -n "$p" ] || return 0
  if tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | grep -qxF "$marker"; then echo "$p"; fi
}

stop_cluster() {
  local conf=$dir/slurm.conf pids p i
  # Cancel jobs first so each slurmstepd kills its job's processes itself.
  if [ -f "$conf" ] && [ -n "$(pid_from_file "$dir/slurmctld.pid")" ]; then
    local jobs
    jobs=$(SLURM_CONF=$conf timeout 5 squeue -h -o %F 2>/dev/null | sort -u || true)
    if [ -n "$jobs" ]; then
      # shellcheck disable=SC2086
      SLURM_CONF=$conf timeout 5 scancel $jobs 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        [ -z "$(slurmstepds)" ] && break
        sleep 0.1
      done
    fi
  fi
  # slurmd before slurmctld so the controller does not mark the node down on the way out;
  # munged last because both talk to it while shutting down.
  for name in slurmd slurmctld munged; do
    local pidfile=$dir/$name.pid
    [ "$name" = munged ] && pidfile=$dir/munge/munged.pid
    p=$(pid_from_file "$pidfile")
    [ -n "$p" ] && terminate 100 "$p"
    rm -f "$pidfile"
  done
  # Strays: anything still carrying the marker, and whatever runs under it.
  pids=$(marked_pids)
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086
    local all
    all=$({ descendants $pids; echo "$pids"; } | awk '!seen[$0]++')
    log "stopping leftover processes: $(echo $all)"
    # shellcheck disable=SC2086
    terminate 30 $all
  fi
}

# A TCP port from $1 upward that nothing on this machine uses (any state, IPv4 or IPv6).
free_port() {
  local port=$1 used hex
  # Column 2 is local_address as HEXIP:HEXPORT (mawk has no strtonum, so bash converts).
  used=$(for hex in $(awk 'FNR > 1 { n = split($2, a, ":"); print a[n] }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null); do echo $((16#$hex)); done | sort -un)
  while grep -qx "$port" <<<"$used" || [ "$port" = "${2:-}" ]; do port=$((port + 1)); done
  echo "$port"
}

tail_logs() {
  local f
  for f in "$dir"/log/*.log "$dir"/log/*.stderr; do
    [ -s "$f" ] || continue
    echo "----- tail of $f -----" >&2
    tail -n 25 "$f" >&2
  done
}

start_cluster() {
  local missing=() c
  for c in munged slurmctld slurmd sinfo sbatch; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "missing commands: ${missing[*]}; install the Debian packages slurmctld slurmd slurm-client munge (scripts/install-deps.sh --tests)"
    exit 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    log "must run as root: slurmd runs each job as the user who submitted it"
    exit 1
  fi

  local host
  host=$(hostname -s 2>/dev/null || uname -n)
  host=${host%%.*}
  # slurmd puts one socket per job step in its spool dir: DIR/spool/<host>_<job>.<step>.
  if [ $((${#dir} + ${#host} + 32)) -gt 107 ]; then
    log "DIR '$dir' is too long for the Unix sockets slurmd creates in it (108-byte limit); use a short one, e.g. \$(mktemp -d /tmp/slurm.XXXXXX)"
    exit 1
  fi

  if [ -n "$(marked_pids)" ]; then
    log "daemons from an earlier start in $dir are running; stopping them first"
    stop_cluster
  fi

  local cpus mem_mb headroom real_mem
  cpus=$(nproc)
  mem_mb=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
  # In a container with a memory limit MemTotal is the host's: take the limit when lower.
  local limit_file limit
  for limit_file in /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes; do
    limit=$(cat 2>/dev/null "$limit_file" || true)
    case $limit in
      '' | max | *[!0-9]*) continue ;;
    esac
    [ ${#limit} -lt 16 ] && [ $((limit / 1048576)) -lt "$mem_mb" ] && mem_mb=$((limit / 1048576))
  done
  # Leave room for the OS and the daemons, and stay below what slurmd measures (it drains a
  # node whose RealMemory exceeds the real one).
  headroom=$((mem_mb / 10 > 512 ? mem_mb / 10 : 512))
  real_mem=$((mem_mb - headroom))
  if [ "$real_mem" -lt 256 ]; then
    log "only ${mem_mb} MiB of memory; need at least $((256 + headroom))"
    exit 1
  fi

  local ctld_port slurmd_port
  ctld_port=$(free_port 16817)
  slurmd_port=$(free_port $((ctld_port + 1)) "$ctld_port")

  rm -rf "$dir/state" "$dir/spool" "$dir/log" "$dir/munge"
  mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/munge"
  chmod 700 "$dir/munge"
  (umask 077 && head -c 1024 /dev/urandom >"$dir/munge/munge.key")

  cat >"$dir/slurm.conf" <<EOF
# Written by scripts/slurm-local.sh: a one-node cluster whose files all live in $dir.
ClusterName=orchlocal
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups: linuxproc tracks job processes through /proc; task/affinity pins each job to
# the CPUs it was given, so nproc inside a job shows its allocation.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
# Cores and memory are consumable: a job that asks for more --mem than RealMemory is refused
# at submission, and jobs run side by side only while their --mem requests fit.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Without this a job that gives no --mem gets the whole node's memory.
DefMemPerCPU=1024
SchedulerType=sched/backfill
# Refuse at submission what the node can never give (e.g. more --cpus-per-task than CPUs)
# instead of leaving it pending forever with Reason=PartitionConfig.
EnforcePartLimits=ALL
MpiDefault=none
MailProg=/bin/true
SwitchType=switch/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
# Trust the CPU count below even where the hardware layout (sockets, threads) differs.
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$real_mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

  export SLURM_CONF=$dir/slurm.conf
  local t0=$SECONDS
  # --force: munged otherwise refuses a socket dir that other users cannot enter; here only
  # root talks to it.
  if ! env "$marker" munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" \
    --seed-file="$dir/munge/munged.seed" </dev/null 2>"$dir/log/munged.stderr"; then
    log "munged failed to start"
    tail_logs; stop_cluster; exit 1
  fi
  if ! env "$marker" slurmctld </dev/null >/dev/null 2>"$dir/log/slurmctld.stderr"; then
    log "slurmctld failed to start"
    tail_logs; stop_cluster; exit 1
  fi
  if ! env "$marker" slurmd -N "$host" </dev/null >/dev/null 2>"$dir/log/slurmd.stderr"; then
    log "slurmd failed to start"
    tail_logs; stop_cluster; exit 1
  fi

  local state="" deadline=$((SECONDS + 30))
  while [ "$SECONDS" -lt "$deadline" ]; do
    state=$(timeout 5 sinfo -h -n "$host" -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.3
  done
  if [ "$state" != idle ]; then
    log "node $host did not become idle within 30 s (state: '${state:-no answer from slurmctld}')"
    tail_logs; stop_cluster; exit 1
  fi
  log "node $host idle after $((SECONDS - t0)) s: CPUs=$cpus RealMemory=${real_mem}M, ports $ctld_port/$slurmd_port, logs in $dir/log"
  echo "export SLURM_CONF=$dir/slurm.conf"
}

case $action in
  start) start_cluster ;;
  stop) stop_cluster ;;
  *) usage ;;
esac
