#!/usr/bin/env bash
# Run one command against a throwaway single-node SLURM cluster on this machine.
#
#   tests/slurm/with_slurm_cluster.sh [--logs DIR] [--timeout SECS] -- CMD [ARGS...]
#
# What it does, from scratch every time (all state in one temp dir, plus one link):
#   1. installs Debian's munge/slurmctld/slurmd/slurm-client if a binary is missing
#      (needs root and apt; a no-op when they are installed);
#   2. writes a munge key and a slurm.conf (node "localhost" on 127.0.0.1 with this
#      machine's CPUs and memory, partition "debug", root-owned, no cgroups, no
#      accounting database, job-completion records in a text file) into a temp dir;
#   3. starts munged, slurmctld and slurmd on loopback and waits (bounded) until the
#      node is idle;
#   4. runs CMD, bounded by --timeout; sbatch/squeue/srun in CMD talk to this cluster;
#   5. on EVERY exit path (success, failure, INT, TERM): cancels leftover jobs, stops
#      the three daemons, copies the daemons' logs and the job-completion records to
#      --logs DIR (if given), removes the config link and deletes the temp dir.
#      DIR/timings.txt gets the seconds taken by bring-up, CMD and teardown.
# The config is linked at /etc/slurm/slurm.conf, the place where SLURM looks by default,
# because SLURM_CONF does not reach every SLURM command: the executor plugin's job step
# strips all SLURM_* variables except the job's ids before it calls srun. The script
# therefore refuses to run where /etc/slurm/slurm.conf already exists (a real install).
# Exit status: CMD's exit status (124 if it timed out); 2 for a usage error; 3 if the
# cluster could not be brought up (the daemons' logs are printed).
# shellcheck disable=SC2317  # stop_pid and teardown run from the EXIT trap
set -euo pipefail

usage() { sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

LOG_EXPORT=""
CMD_TIMEOUT=900
while [[ $# -gt 0 ]]; do
    case "$1" in
        --logs) LOG_EXPORT="${2:?--logs needs a directory}"; shift 2 ;;
        --timeout) CMD_TIMEOUT="${2:?--timeout needs seconds}"; shift 2 ;;
        --) shift; break ;;
        *) echo "with_slurm_cluster.sh: unknown argument '$1'" >&2; usage ;;
    esac
done
[[ $# -gt 0 ]] || usage
[[ "$CMD_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || { echo "with_slurm_cluster.sh: --timeout must be a positive integer, got '$CMD_TIMEOUT'" >&2; exit 2; }
[[ $EUID -eq 0 ]] || { echo "with_slurm_cluster.sh: must run as root (the cluster's SlurmUser is root), running as uid $EUID" >&2; exit 2; }

log() { printf '[slurm-cluster %s] %s\n' "$(date +%T)" "$*" >&2; }
elapsed_since() { python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$1"; }

# --- 1. packages --------------------------------------------------------------------
ensure_packages() {
    local missing=0 bin
    for bin in munged slurmctld slurmd sbatch squeue sinfo scontrol scancel srun; do
        command -v "$bin" >/dev/null 2>&1 || missing=1
    done
    [[ $missing -eq 0 ]] && return 0
    log "installing Debian packages munge slurmctld slurmd slurm-client"
    export DEBIAN_FRONTEND=noninteractive
    timeout 300 apt-get update -qq
    timeout 300 apt-get install -y -qq --no-install-recommends munge slurmctld slurmd slurm-client >/dev/null
}

# --- teardown (installed before anything is started) ----------------------------------
TMP=""
CONF_LINK=/etc/slurm/slurm.conf
LINKED=0         # 1 once CONF_LINK is ours
CHILD_PID=""     # the bounded CMD, while it runs
PIDS=()          # munged slurmctld slurmd, in start order

stop_pid() {     # stop_pid TARGET NAME: TERM, wait up to 30 s, then KILL
    # TARGET is a pid, or -PGID for a whole process group.
    local target=$1 name=$2 pid=${1#-} i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM -- "$target" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.1
    done
    log "$name (pid $pid) ignored TERM for 30 s; sending KILL"
    kill -KILL -- "$target" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

teardown() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    local t_teardown
    t_teardown=$(date +%s.%N)
    # timeout(1) leads its own process group: stop CMD and everything it started.
    if [[ -n "$CHILD_PID" ]]; then stop_pid "-$CHILD_PID" "command"; fi
    if ((LINKED && ${#PIDS[@]} >= 3)); then
        # Cancel whatever is still queued or running, then wait (bounded) until the job
        # steps are gone, so no slurmstepd or job process outlives the cluster.
        scancel --full --quiet --user=root 2>/dev/null
        local i
        for ((i = 0; i < 30; i++)); do
            [[ -z "$(squeue --noheader --states=PENDING,RUNNING,COMPLETING --format=%i 2>/dev/null)" ]] && break
            sleep 1
        done
        local -a leftover
        mapfile -t leftover < <(scontrol listpids 2>/dev/null | awk 'NR > 1 && $1 ~ /^[0-9]+$/ {print $1}')
        if ((${#leftover[@]})); then
            log "killing leftover job processes: ${leftover[*]}"
            kill -KILL "${leftover[@]}" 2>/dev/null
        fi
    fi
    local j
    for ((j = ${#PIDS[@]} - 1; j >= 0; j--)); do stop_pid "${PIDS[j]}" "daemon"; done
    ((LINKED)) && rm -f "$CONF_LINK"
    if [[ -n "$TMP" ]]; then
        echo "teardown_s=$(elapsed_since "$t_teardown")" >>"$TMP/log/timings.txt"
        if [[ -n "$LOG_EXPORT" ]]; then
            mkdir -p "$LOG_EXPORT" && cp -p "$TMP"/log/* "$TMP/slurm.conf" "$LOG_EXPORT"/ 2>/dev/null
        fi
        rm -rf "$TMP"
    fi
    log "cluster stopped and cleaned up (exit status $rc)"
    exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 2. configuration -----------------------------------------------------------------
free_ports() {   # two distinct free TCP ports on loopback
    python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))'
}

write_config() {
    mkdir -p "$TMP"/{munge,state,spool,log,run}
    chmod 700 "$TMP"/munge
    head -c 1024 /dev/urandom >"$TMP/munge/munge.key"
    chmod 400 "$TMP/munge/munge.key"

    # This machine's CPUs and memory as slurmd itself detects them (slurmd -C prints
    # e.g. "NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2
    # ThreadsPerCore=1 RealMemory=24105"); the node is renamed to localhost. 512 MB
    # are kept back for the daemons and the submitting Snakemake process.
    local hw cpus mem
    hw=$(slurmd -C | head -n 1)
    cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$hw")
    mem=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$hw")
    [[ -n "$cpus" && -n "$mem" ]] || { log "cannot parse 'slurmd -C' output: $hw"; return 1; }
    mem=$((mem > 1024 ? mem - 512 : mem))
    local ports
    read -r -a ports <<<"$(free_ports)"

    cat >"$TMP/slurm.conf" <<EOF
# Generated by tests/slurm/with_slurm_cluster.sh for one test run; deleted afterwards.
ClusterName=datrain-ci
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=${ports[0]}
SlurmdPort=${ports[1]}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$TMP/munge/munge.socket
StateSaveLocation=$TMP/state
SlurmdSpoolDir=$TMP/spool
SlurmctldPidFile=$TMP/run/slurmctld.pid
SlurmdPidFile=$TMP/run/slurmd.pid
SlurmctldLogFile=$TMP/log/slurmctld.log
SlurmdLogFile=$TMP/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups: processes are tracked through /proc, tasks are not bound.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Jobs that do not ask for memory get 1000 MB per CPU, not the whole node.
DefMemPerCPU=1000
# No accounting database (so no sacct); squeue keeps finished jobs for MinJobAge
# seconds, long enough for the executor plugin's squeue status checks. Every finished
# job is recorded in a text file instead.
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$TMP/log/jobcomp.txt
MinJobAge=600
ReturnToService=2
SchedulerType=sched/builtin
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
    # A link left behind by a run that was killed with SIGKILL points into a deleted
    # temp dir of ours and is replaced; anything else is a real install and is kept.
    if [[ -L "$CONF_LINK" && "$(readlink "$CONF_LINK")" == /tmp/datrain-slurm.*/slurm.conf && ! -e "$CONF_LINK" ]]; then
        rm -f "$CONF_LINK"
    fi
    if [[ -e "$CONF_LINK" || -L "$CONF_LINK" ]]; then
        log "$CONF_LINK exists already; refusing to replace a SLURM configuration not made by this script"
        return 1
    fi
    mkdir -p "$(dirname "$CONF_LINK")"
    ln -s "$TMP/slurm.conf" "$CONF_LINK"
    LINKED=1
}

# --- 3. daemons -----------------------------------------------------------------------
start_daemons() {
    munged --foreground --force --socket="$TMP/munge/munge.socket" \
        --key-file="$TMP/munge/munge.key" --pid-file="$TMP/run/munged.pid" \
        --seed-file="$TMP/munge/munged.seed" --log-file="$TMP/log/munged.log" \
        >>"$TMP/log/munged.out" 2>&1 &
    PIDS+=($!)
    local i
    for ((i = 0; i < 50; i++)); do [[ -S "$TMP/munge/munge.socket" ]] && break; sleep 0.1; done
    [[ -S "$TMP/munge/munge.socket" ]] || { log "munged did not create its socket"; return 1; }

    slurmctld -D >>"$TMP/log/slurmctld.out" 2>&1 &
    PIDS+=($!)
    slurmd -D -N localhost >>"$TMP/log/slurmd.out" 2>&1 &
    PIDS+=($!)

    local state=""
    for ((i = 0; i < 60; i++)); do
        for pid in "${PIDS[@]}"; do
            kill -0 "$pid" 2>/dev/null || { log "a daemon (pid $pid) exited during start-up"; return 1; }
        done
        state=$(sinfo --noheader --nodes=localhost --format=%t 2>/dev/null || true)
        [[ "$state" == idle ]] && return 0
        sleep 1
    done
    log "node state is '$state' after 60 s, expected 'idle'"
    return 1
}

dump_logs() {
    local f
    for f in "$TMP"/log/*; do
        [[ -s "$f" ]] || continue
        echo "===== $f (last 40 lines)" >&2
        tail -n 40 "$f" >&2
    done
}

ensure_packages
TMP=$(mktemp -d /tmp/datrain-slurm.XXXXXX)
t0=$(date +%s.%N)
write_config || exit 3
if ! start_daemons; then
    dump_logs
    exit 3
fi
echo "bringup_s=$(elapsed_since "$t0")" >>"$TMP/log/timings.txt"
log "cluster up in $(elapsed_since "$t0") s: $(sinfo --noheader --format='partition=%P nodes=%N cpus=%c memory=%m state=%t')"

# --- 4. the command -------------------------------------------------------------------
# Run in the background and wait, so that INT/TERM reach the trap at once.
set +e
t_cmd=$(date +%s.%N)
timeout --signal=TERM --kill-after=30 "$CMD_TIMEOUT" "$@" &
CHILD_PID=$!
wait "$CHILD_PID"
rc=$?
CHILD_PID=""
echo "command_s=$(elapsed_since "$t_cmd")" >>"$TMP/log/timings.txt"
set -e
[[ $rc -eq 124 ]] && log "command timed out after $CMD_TIMEOUT s"
exit "$rc"
