"""Issue 6: the pipeline on a real single-node SLURM cluster.

One run of ``tests/slurm/run_pipeline_on_slurm.sh`` per module: it installs Debian's
munge and SLURM if they are missing, starts munged, slurmctld and slurmd on loopback,
runs ``config/test.yaml`` through ``--profile profiles/slurm`` in a temporary copy of
the workflow, tears the cluster down, and runs a second copy locally with
``--cores 2``. The tests read what it leaves behind.

Evidence that the cluster ran the jobs, which a local run cannot produce:

- slurmctld's job-completion records (``JobCompType=jobcomp/filetxt``, there is no
  accounting database) name exactly the SLURM job ids that Snakemake reports as
  submitted, under this run's job name and working directory, all COMPLETED with exit
  code 0, and slurmctld's log shows each of them allocated on the node;
- every remote job of the Snakemake run (rule and wildcards) was executed exactly once
  by the job step inside a SLURM job, according to the logs that slurmstepd wrote for
  those SLURM job ids, and they are the same jobs as the local run's jobs of the same
  rules.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO / "tests" / "slurm" / "run_pipeline_on_slurm.sh"
# Bring-up (with apt-get on a fresh machine) plus two runs, each bounded by the
# runner's RUN_TIMEOUT of 600 s; past this the runner is stopped with TERM.
RUNNER_TIMEOUT_S = 1500

# Data variables of the summary cube that measure the machine rather than the
# computation (seconds); they are compared by dims and shape only.
TIMING_VARIABLES = frozenset({"wall_time"})

pytestmark = [
    pytest.mark.workflow,
    pytest.mark.skipif(
        os.geteuid() != 0,
        reason="the throwaway SLURM cluster runs as root (SlurmUser=root) and may apt-get install",
    ),
]


def _tail(path: Path, n: int = 80) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-n:])


def _stop(proc: subprocess.Popen) -> None:
    """TERM the runner, which passes it on so the cluster is torn down; KILL as last resort."""
    proc.terminate()
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """Run the runner once; return its OUTDIR (slurm/, local/, cluster/)."""
    base = tmp_path_factory.mktemp("slurm")
    out = base / "out"
    console = base / "runner.log"
    with console.open("w") as log:
        proc = subprocess.Popen(
            ["bash", str(RUNNER), str(out)],
            env={**os.environ, "SNAKEMAKE": str(Path(sys.executable).parent / "snakemake")},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        rc = None
        try:
            rc = proc.wait(timeout=RUNNER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pass
        finally:
            if proc.poll() is None:  # timed out, or pytest was interrupted
                _stop(proc)
    if rc is None:
        pytest.fail(f"runner exceeded {RUNNER_TIMEOUT_S} s:\n{_tail(console)}")
    assert rc == 0, f"runner failed with exit code {rc}:\n{_tail(console)}"
    print(_tail(console, 12))  # timings, shown with pytest -s
    return out


_JOB_HEADER = re.compile(r"([ \t]*)(localrule|rule) (\w+):")


def _jobs(text: str, kind: str) -> Counter:
    """Count the job blocks ``rule X:`` or ``localrule X:`` (kind) of a Snakemake log.

    A block is the header line followed by lines indented deeper than it. Returns a
    Counter of (rule, wildcards), wildcards as Snakemake prints them
    (``case=sine, method=gd, seed=0``; empty for a rule without wildcards).
    """
    found = Counter()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        header = _JOB_HEADER.fullmatch(line)
        if not header or header.group(2) != kind:
            continue
        indent = len(header.group(1))
        wildcards = ""
        for body in lines[i + 1 :]:
            if not body.strip() or len(body) - len(body.lstrip()) <= indent:
                break
            key, _, value = body.strip().partition(": ")
            if key == "wildcards":
                wildcards = value
                break
        found[header.group(3), wildcards] += 1
    return found


def _submissions(snakemake_log: str) -> tuple[str, dict[str, Path]]:
    """The SLURM run id (job name) and {SLURM job id: SLURM log file} of a run."""
    run_id = re.search(r"^SLURM run ID: (\S+)$", snakemake_log, re.M)
    assert run_id, "no 'SLURM run ID' in the Snakemake log: the slurm executor did not run"
    submitted = {
        jobid: Path(logfile)
        for jobid, logfile in re.findall(
            r"has been submitted with SLURM jobid (\d+) \(log: (.+?)\)\.$", snakemake_log, re.M
        )
    }
    return run_id.group(1), submitted


def _completion_records(path: Path) -> list[dict[str, str]]:
    """slurmctld's jobcomp/filetxt records: one line of Key=Value fields per job."""
    return [
        dict(re.findall(r"(\w+)=(\S*)", line))
        for line in path.read_text().splitlines()
        if line.startswith("JobId=")
    ]


def test_every_submitted_job_completed_on_the_cluster(runs):
    run_id, submitted = _submissions((runs / "slurm" / "snakemake.log").read_text())
    assert submitted, "Snakemake reports no SLURM submissions"

    records = [
        rec
        for rec in _completion_records(runs / "cluster" / "jobcomp.txt")
        if rec["Name"] == run_id
    ]
    assert sorted(rec["JobId"] for rec in records) == sorted(submitted)
    for rec in records:
        assert (rec["JobState"], rec["ExitCode"]) == ("COMPLETED", "0:0"), rec
        assert rec["NodeList"] == "localhost", rec
        assert Path(rec["WorkDir"]) == runs / "slurm", rec

    ctld_log = (runs / "cluster" / "slurmctld.log").read_text()
    for jobid in submitted:
        assert re.search(rf"sched: Allocate JobId={jobid} NodeList=localhost ", ctld_log)
        assert f"_job_complete: JobId={jobid} WEXITSTATUS 0" in ctld_log


def test_every_remote_job_ran_inside_a_slurm_job(runs):
    slurm_log = (runs / "slurm" / "snakemake.log").read_text()
    _, submitted = _submissions(slurm_log)
    remote = _jobs(slurm_log, "rule")
    assert "train" in {rule for rule, _ in remote}, remote

    # Inside a SLURM job, the job step runs each job with `srun python -m snakemake`,
    # which logs it as a local rule; slurmstepd writes that output to the log file
    # that sbatch was given for this SLURM job id.
    executed = Counter()
    for jobid, logfile in submitted.items():
        assert logfile.is_relative_to(runs / "slurm") and logfile.name == f"{jobid}.log", logfile
        executed += _jobs(logfile.read_text(), "localrule")
    assert executed == remote

    # Nothing ran twice, and the cluster ran the same jobs of its rules as the local
    # run, where every job is a `localrule` block (compared as sets: a retried job
    # appears once per attempt).
    assert not set(remote) & set(_jobs(slurm_log, "localrule"))
    remote_rules = {rule for rule, _ in remote}
    local_run = _jobs((runs / "local" / "snakemake.log").read_text(), "localrule")
    assert {job for job in local_run if job[0] in remote_rules} == set(remote)


def test_train_jobs_were_bundled_into_serial_group_jobs(runs):
    slurm_log = (runs / "slurm" / "snakemake.log").read_text()
    run_id, submitted = _submissions(slurm_log)
    records = {
        rec["JobId"]: rec
        for rec in _completion_records(runs / "cluster" / "jobcomp.txt")
        if rec["Name"] == run_id
    }
    profile = yaml.safe_load((runs / "slurm" / "profiles" / "slurm" / "config.v8+.yaml").read_text())
    train = profile["set-resources"]["train"]
    n_train = sum(n for (rule, _), n in _jobs(slurm_log, "rule").items() if rule == "train")

    groups = {jobid: log for jobid, log in submitted.items() if log.parent.name.startswith("group_")}
    assert 0 < len(groups) < n_train, "the profile's group-components did not bundle train jobs"
    for jobid, log in groups.items():
        members = sum(_jobs(log.read_text(), "localrule").values())
        rec = records[jobid]
        # Sized for the job step's serial execution: 1 CPU, one train job's memory and
        # the sum of the members' runtimes (minutes).
        assert rec["ProcCnt"] == "1", rec
        assert f"mem={train['mem_mb']}M" in rec["Tres"].split(","), rec
        assert int(rec["TimeLimit"]) == members * train["runtime"], (members, rec)


def test_summary_cube_matches_local_run(runs):
    def load(run: str) -> xr.Dataset:
        with xr.open_dataset(runs / run / "results" / "summary.nc", engine="h5netcdf") as ds:
            return ds.load()

    on_slurm, local = load("slurm"), load("local")
    timing = sorted(TIMING_VARIABLES & set(local.data_vars))
    assert timing, f"none of {sorted(TIMING_VARIABLES)} in the cube; update TIMING_VARIABLES"
    assert set(on_slurm.data_vars) == set(local.data_vars)
    for name in timing:
        assert on_slurm[name].dims == local[name].dims
        assert on_slurm[name].shape == local[name].shape
        # NaN only where the run has no such step (outer join over runs of unequal length).
        assert np.array_equal(np.isnan(on_slurm[name].values), np.isnan(local[name].values))

    # Data variables, their coords and attrs, bit for bit; global attrs may carry
    # provenance such as creation times and are not compared.
    compared_slurm = on_slurm.drop_vars(timing)
    compared_local = local.drop_vars(timing)
    compared_slurm.attrs, compared_local.attrs = {}, {}
    xr.testing.assert_identical(compared_slurm, compared_local)
