#!/usr/bin/env bash
# Run the tiny config through profiles/slurm on a throwaway SLURM cluster, and locally.
#
#   tests/slurm/run_pipeline_on_slurm.sh OUTDIR
#
# OUTDIR must not exist yet. The script leaves there, for tests/slurm/test_slurm.py:
#   OUTDIR/slurm/    a copy of the workflow, run by
#                      snakemake --profile profiles/slurm --configfile config/test.yaml \
#                        --replace-workflow-config
#                    on the cluster of with_slurm_cluster.sh; its console output in
#                    snakemake.log, the SLURM job logs in .snakemake/slurm_logs/
#   OUTDIR/cluster/  slurmctld.log, slurmd.log, jobcomp.txt (one record per finished
#                    SLURM job), slurm.conf, timings.txt
#   OUTDIR/local/    a second copy, run up to the summary cube (tables and figures are
#                    localrules, the same code in both runs, covered by tests/workflow):
#                      snakemake --cores 2 --configfile config/test.yaml \
#                        --replace-workflow-config results/summary.nc
#   OUTDIR/timings.txt  wall seconds of the two runs (slurm_run_s includes cluster
#                    bring-up and teardown)
# Two flags are added to the profile for the test only:
#   --slurm-init-seconds-before-status-checks 5  the plugin's default of 40 s between
#       the first status checks would dominate a run of short jobs;
#   --slurm-keep-successful-logs  keep every SLURM job log as evidence (the plugin
#       deletes logs of successful jobs by default).
# Exits non-zero if either run fails; the comparison itself is done by the pytest.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
OUT=$1
[[ ! -e "$OUT" ]] || { echo "run_pipeline_on_slurm.sh: OUTDIR '$OUT' exists already" >&2; exit 2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SNAKEMAKE=${SNAKEMAKE:-$REPO/.venv/bin/snakemake}
RUN_TIMEOUT=${RUN_TIMEOUT:-600}   # seconds, per run
# What a run needs from the checkout; results/, data/*.nc and .snakemake/ stay behind.
WORKFLOW_FILES=(Snakefile workflow config notebooks envs profiles)

[[ -x "$SNAKEMAKE" ]] || { echo "run_pipeline_on_slurm.sh: no snakemake at $SNAKEMAKE (run make test, or set SNAKEMAKE)" >&2; exit 2; }

copy_workflow() {
    local dest=$1 f
    mkdir -p "$dest"
    for f in "${WORKFLOW_FILES[@]}"; do
        [[ -e "$REPO/$f" ]] || { echo "run_pipeline_on_slurm.sh: $REPO/$f is missing" >&2; exit 2; }
        cp -r "$REPO/$f" "$dest/"
    done
    rm -rf "$dest/.snakemake" "$dest/results" "$dest/logs" "$dest/benchmarks"
}

now() { date +%s.%N; }
seconds_since() { python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$1"; }

# Each run is a background child that this script waits for, so that INT/TERM reach the
# trap at once and are passed on: with_slurm_cluster.sh then tears its cluster down,
# timeout(1) stops the local Snakemake.
CHILD=""
on_signal() {
    if [[ -n "$CHILD" ]]; then
        kill -TERM "$CHILD" 2>/dev/null
        wait "$CHILD" 2>/dev/null
    fi
    exit 143
}
trap on_signal INT TERM
run_child() {   # run_child LOGFILE CMD...: run CMD with output to LOGFILE
    local logfile=$1 rc=0
    shift
    "$@" >"$logfile" 2>&1 &
    CHILD=$!
    wait "$CHILD" || rc=$?
    CHILD=""
    if ((rc != 0)); then
        echo "run_pipeline_on_slurm.sh: '$*' failed (exit $rc); last lines of $logfile:" >&2
        tail -n 60 "$logfile" >&2
    fi
    return "$rc"
}

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
copy_workflow "$OUT/slurm"
copy_workflow "$OUT/local"

echo "== SLURM run in $OUT/slurm" >&2
cd "$OUT/slurm"
t=$(now)
run_child "$OUT/slurm/snakemake.log" \
    bash "$HERE/with_slurm_cluster.sh" --logs "$OUT/cluster" --timeout "$RUN_TIMEOUT" -- \
    "$SNAKEMAKE" --profile profiles/slurm --configfile config/test.yaml --replace-workflow-config \
    --slurm-init-seconds-before-status-checks 5 --slurm-keep-successful-logs
echo "slurm_run_s=$(seconds_since "$t")" >>"$OUT/timings.txt"

echo "== local run in $OUT/local" >&2
cd "$OUT/local"
t=$(now)
run_child "$OUT/local/snakemake.log" \
    timeout --signal=TERM --kill-after=30 "$RUN_TIMEOUT" \
    "$SNAKEMAKE" --cores 2 --configfile config/test.yaml --replace-workflow-config \
    results/summary.nc
echo "local_run_s=$(seconds_since "$t")" >>"$OUT/timings.txt"

cat "$OUT/cluster/timings.txt" "$OUT/timings.txt" >&2
