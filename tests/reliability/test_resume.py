"""A pipeline killed mid-run (SIGKILL to Snakemake and every process it started) resumes with

    snakemake --unlock
    snakemake --cores 8 --rerun-incomplete

and then gives the same results as an uninterrupted run; no reader ever sees a half-written NetCDF.
"""
import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from datrain import io as dio
from reliability_helpers import assert_same_results, planned_jobs
from workflow_helpers import TEST_CONFIG, copy_pipeline, snakemake

pytestmark = pytest.mark.workflow

TARGET = "results/summary.nc"
FINISHED_BEFORE_KILL = 2  # train jobs Snakemake has recorded as complete when the kill comes


def tracked(workdir: Path, kind: str) -> set[str]:
    """Outputs Snakemake has recorded in .snakemake/{kind} ("metadata": finished, "incomplete": running)."""
    folder = workdir / ".snakemake" / kind
    names = [path.name for path in folder.iterdir()] if folder.is_dir() else []
    return {base64.urlsafe_b64decode(name).decode() for name in names}


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc), including kernels started in their own session."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process has gone
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def kill_tree(process: subprocess.Popen) -> None:
    """Freeze Snakemake's process group (no new children), then SIGKILL it and every descendant."""
    os.killpg(process.pid, signal.SIGSTOP)
    victims = descendants(process.pid)
    os.killpg(process.pid, signal.SIGKILL)
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=60)


def runs_finished(workdir: Path) -> set[str]:
    return {path for path in tracked(workdir, "metadata") if path.startswith("results/runs/")}


@pytest.fixture(scope="module")
def resumed(tmp_path_factory):
    workdir = copy_pipeline(tmp_path_factory.mktemp("interrupted"))
    command = [sys.executable, "-m", "snakemake", "--cores", "8", *TEST_CONFIG, TARGET]
    with open(workdir / "interrupted.log", "w") as log:
        process = subprocess.Popen(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        deadline = time.monotonic() + 600
        while len(runs_finished(workdir) - tracked(workdir, "incomplete")) < FINISHED_BEFORE_KILL:
            assert process.poll() is None, (workdir / "interrupted.log").read_text()
            assert time.monotonic() < deadline, "no train job finished within 10 minutes"
            time.sleep(0.05)
        kill_tree(process)
    finished = runs_finished(workdir) - tracked(workdir, "incomplete")
    state = SimpleNamespace(
        workdir=workdir,
        finished={path: (workdir / path).stat().st_mtime_ns for path in finished},
        interrupted=tracked(workdir, "incomplete"),
        visible=sorted(workdir.glob("results/runs/*/*/seed*.nc")),
        hidden=sorted(workdir.glob("results/runs/*/*/.*")),
    )
    state.unreadable = {}  # checked right after the kill, before anything else touches the files
    for path in state.visible:
        try:
            dio.load_runs([path])
        except dio.DataFileError as error:
            state.unreadable[path] = str(error)
    snakemake(workdir, "--unlock", *TEST_CONFIG)
    state.resume = snakemake(workdir, "--cores", "8", "--rerun-incomplete", *TEST_CONFIG, TARGET)
    return state


def test_the_kill_interrupted_running_jobs_and_left_only_complete_run_files(resumed):
    assert resumed.interrupted, "the kill came after every job had finished"
    assert not resumed.unreadable
    assert len(resumed.visible) >= len(resumed.finished)
    # A writer killed mid-write leaves only its hidden temporary file (".seed0.<random>.tmp.nc").
    assert all(path.name.startswith(".seed") and path.name.endswith(".tmp.nc") for path in resumed.hidden)


def test_the_rerun_resumes_instead_of_restarting(resumed, test_config):
    retrained = planned_jobs(resumed.resume.stdout + resumed.resume.stderr)["train"]
    every_run = {f"results/runs/{c}/{m}/seed{s}.nc" for c in test_config["cases"] for m in test_config["methods"]
                 for s in test_config["seeds"]}
    assert retrained == every_run - set(resumed.finished)
    for path, mtime in resumed.finished.items():
        assert (resumed.workdir / path).stat().st_mtime_ns == mtime, f"{path} was rewritten"


def test_the_resumed_summary_equals_an_uninterrupted_run(resumed, pipeline):
    """Same data variables, coordinates and attributes; `wall_time` (a timing) excepted.

    The reference is the shared uninterrupted run with `--cores 4`; this one ran with `--cores 8`.
    """
    assert_same_results(resumed.workdir / TARGET, pipeline / TARGET)  # every run's data is in the cube
