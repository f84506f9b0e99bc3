"""Failures through the real pipeline: a run that diverges is a result, a notebook that raises is
inspectable, the other runs still complete, and no table is built from an incomplete set of runs
without saying so.

A copy of the shared tiny pipeline (config/test.yaml, complete) gets a configuration with two additions:
  case ``broken``:     sine's settings, but its dataset file is truncated before the run (as a crash
                       or a full disk would leave it), so every ``broken`` notebook raises;
  method ``unstable``: gd with learning rate 1e6, which diverges.
The runs of config/test.yaml are up to date, so only new runs are trained: every ``unstable`` run of
the other cases and, to keep the test short, two of the ``broken`` runs (each failure costs two
kernel starts: the train rule retries once).
"""
import copy
import json
import re
from types import SimpleNamespace

import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml

from datrain import experiment
from datrain import io as dio
from reliability_helpers import copy_workdir, planned_jobs, raw_test_config
from workflow_helpers import snakemake

pytestmark = pytest.mark.workflow

FAULTY = ("--configfile", "config/faulty.yaml", "--replace-workflow-config")
UNSTABLE = ("--configfile", "config/unstable.yaml", "--replace-workflow-config")
FAILING = ["results/runs/broken/gd/seed0.nc", "results/runs/broken/unstable/seed0.nc"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def faulty(pipeline, tmp_path_factory):
    """Run, in order: the new runs with --keep-going (the broken ones fail); a dry run of the tables;
    the partial aggregate; then the tables and figures of the configuration without the broken case."""
    workdir = copy_workdir(pipeline, tmp_path_factory.mktemp("faulty") / "pipeline")
    base = raw_test_config()
    diverging = {**base["methods"]["gd"], "learning_rate": 1.0e6}
    unstable = {**base, "methods": {**base["methods"], "unstable": diverging}}
    config = {**unstable, "cases": {**base["cases"], "broken": copy.deepcopy(base["cases"]["sine"])}}
    (workdir / "config" / "faulty.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (workdir / "config" / "unstable.yaml").write_text(yaml.safe_dump(unstable, sort_keys=False))

    data = experiment.make_case_dataset("broken", config["cases"]["broken"]["dataset"], config["base_seed"])
    broken = dio.write_netcdf(dio.dataset_to_xarray(data, {"case": "broken"}), workdir / "data" / "broken.nc")
    broken.write_bytes(broken.read_bytes()[: broken.stat().st_size // 2])

    before = result_files(workdir)
    attempted = [run_path(*key) for key in runs_of(unstable, method="unstable")] + FAILING
    keep_going = snakemake(workdir, "--cores", "2", "--keep-going", *FAULTY, *attempted, check=False)
    after_keep_going = result_files(workdir)
    tables_plan = snakemake(workdir, "-n", *FAULTY, "results/tables/comparison.md", check=False)
    partial = snakemake(workdir, "--cores", "1", "partial_tables", *FAULTY, check=False)
    after_partial = result_files(workdir)
    first_case = next(iter(unstable["cases"]))
    shown = ["results/tables/comparison.md", "results/figures/final_test_rmse.png",
             f"results/figures/fit_{first_case}.png"]
    complete = snakemake(workdir, "--cores", "2", *UNSTABLE, *shown, check=False)
    return SimpleNamespace(workdir=workdir, config=config, unstable=unstable, keep_going=keep_going,
                           before=before, after_keep_going=after_keep_going, tables_plan=tables_plan,
                           partial=partial, after_partial=after_partial, complete=complete)


def result_files(workdir):
    """Relative path -> mtime (ns) of every file under results/."""
    return {str(path.relative_to(workdir)): path.stat().st_mtime_ns
            for path in (workdir / "results").rglob("*") if path.is_file()}


def log_of(result):
    return result.stdout + result.stderr


def runs_of(config, case=None, method=None):
    return [(c, m, s) for c in config["cases"] for m in config["methods"] for s in config["seeds"]
            if case in (None, c) and method in (None, m)]


def run_path(case, method, seed):
    return f"results/runs/{case}/{method}/seed{seed}.nc"


def markdown_rows(markdown):
    """(case, method) -> {column: cell} of the Markdown comparison table."""
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    header, rows = lines[0], lines[2:]  # lines[1] is the |:---| rule

    def cells(line):
        return [cell.strip() for cell in line.strip().strip("|").split("|")]

    table = [dict(zip(cells(header), cells(line))) for line in rows]
    return {(row["case"], row["method"]): row for row in table}


def test_keep_going_completes_every_run_that_can_complete(faulty):
    assert faulty.keep_going.returncode != 0
    good = [key for key in runs_of(faulty.config) if key[0] != "broken"]
    written = sorted(path for path in faulty.after_keep_going if path.startswith("results/runs/"))
    assert written == sorted(run_path(*key) for key in good)
    new = [run_path(*key) for key in good if key[1] == "unstable"]
    assert new and all(path not in faulty.before for path in new)
    dio.load_runs(faulty.workdir / path for path in new)  # complete, readable run files


def test_failed_job_names_the_bad_file_and_points_to_its_rendered_notebook(faulty):
    log = log_of(faulty.keep_going)
    for path in FAILING:
        case, method, seed = path.removeprefix("results/runs/").removesuffix(".nc").split("/")
        notebook = f"results/notebooks/{case}/{method}/{seed}.ipynb"
        assert f"notebook for {case}/{method}/{seed} failed (DataFileError: data/broken.nc: " in log, log
        assert f"the traceback is in the rendered notebook {notebook}" in log


def test_the_aggregate_waits_for_every_run(faulty):
    """The tables need results/summary.nc, whose inputs are all runs of the configuration: after the
    failures, asking for the tables plans exactly the missing runs, then the aggregate."""
    assert faulty.tables_plan.returncode == 0, log_of(faulty.tables_plan)
    planned = planned_jobs(log_of(faulty.tables_plan))
    assert planned["train"] == {run_path(*key) for key in runs_of(faulty.config, "broken")}
    assert planned["aggregate"] == {"results/summary.nc"}
    downstream = [path for path in faulty.before if path.startswith(("results/summary", "results/tables"))]
    assert downstream and all(faulty.after_keep_going[path] == faulty.before[path] for path in downstream)


@pytest.mark.parametrize("method", ["gd", "unstable"])
def test_rendered_notebook_of_a_failed_run_keeps_a_short_traceback(faulty, method):
    """The traceback is in the notebook and is short: its frames end in datrain.io, none in xarray/h5py."""
    notebook = nbformat.read(faulty.workdir / f"results/notebooks/broken/{method}/seed0.ipynb", as_version=4)
    assert notebook.metadata.papermill.exception is True
    errors = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert len(errors) == 1
    error = errors[0]
    assert error.ename == "DataFileError" and error.evalue.startswith("data/broken.nc: ")
    traceback = ANSI.sub("", "\n".join(error.traceback))
    assert "dio.load_dataset(dataset_path)" in traceback
    frames = re.findall(r"^File (\S+):\d+", traceback, re.M)
    assert frames and all(frame.endswith("datrain/io.py") for frame in frames), frames  # none in xarray/h5py


def test_partial_aggregate_is_explicit_and_lists_the_missing_runs(faulty):
    assert faulty.partial.returncode == 0, log_of(faulty.partial)
    assert "train" not in planned_jobs(log_of(faulty.partial))  # aggregates what exists, trains nothing
    assert "results/partial/summary.nc" in faulty.after_partial
    assert faulty.after_partial["results/summary.nc"] == faulty.before["results/summary.nc"]
    missing = runs_of(faulty.config, "broken")
    cube = dio.read_netcdf(faulty.workdir / "results" / "partial" / "summary.nc")
    assert [tuple(run) for run in json.loads(cube.attrs["missing_runs"])] == missing
    assert (cube["status"].sel(case="broken") == "missing").all()
    assert (cube["status"].drop_sel(case="broken") != "missing").all()
    assert cube["final_test_rmse"].sel(case="broken").isnull().all()

    tables = faulty.workdir / "results" / "partial" / "tables"
    table = pd.read_csv(tables / "comparison.csv").set_index(["case", "method"])
    n_seeds = len(faulty.config["seeds"])
    assert (table.loc["broken", "n_missing"] == n_seeds).all() and (table.loc["broken", "n_ok"] == 0).all()
    assert (table.drop(index="broken", level="case")["n_missing"] == 0).all()
    markdown = (tables / "comparison.md").read_text()
    for case, method, seed in missing:
        assert f"- missing: {case}/{method}/seed{seed} (no run file)" in markdown
    assert cube.attrs["config_sha256"] in markdown


def test_diverged_runs_are_results_flagged_in_the_tables_and_never_averaged(faulty):
    assert faulty.complete.returncode == 0, log_of(faulty.complete)
    assert "train" not in planned_jobs(log_of(faulty.complete))  # the diverged runs are done, not redone
    workdir, seeds, cases = faulty.workdir, faulty.config["seeds"], list(faulty.unstable["cases"])
    epochs = faulty.config["methods"]["unstable"]["epochs"]
    cube = dio.read_netcdf(workdir / "results" / "summary.nc")
    assert (cube["status"].sel({"method": "unstable"}) == "diverged").all()
    assert (cube["status"].sel({"method": "gd"}) == "ok").all()
    for case, _, seed in runs_of(faulty.unstable, method="unstable"):
        run = dio.read_netcdf(workdir / run_path(case, "unstable", seed)).squeeze(["case", "method", "seed"])
        assert run["status"].item() == "diverged"
        diverged_at = int(run["diverged_at"])
        assert 0 < diverged_at <= epochs
        recorded = run["step"].values
        assert recorded.size and recorded.max() < diverged_at  # the finite history before the blow-up
        assert np.isfinite(run["train_rmse"].values).all()
        assert run["final_test_rmse"].isnull().item() and run["pred_mean"].isnull().all()

    table = pd.read_csv(workdir / "results" / "tables" / "comparison.csv").set_index(["case", "method"])
    markdown = (workdir / "results" / "tables" / "comparison.md").read_text()
    rows = markdown_rows(markdown)
    for case in cases:
        unstable, gd = table.loc[(case, "unstable")], table.loc[(case, "gd")]
        assert unstable["n_diverged"] == len(seeds) and unstable["n_ok"] == 0
        assert str(unstable["diverged_seeds"]) == ";".join(map(str, seeds))
        assert unstable[["test_rmse_mean", "train_rmse_mean", "test_r2_mean", "train_r2_mean"]].isna().all()
        gd_rmse = cube["final_test_rmse"].sel({"case": case, "method": "gd"})
        assert gd["test_rmse_mean"] == pytest.approx(gd_rmse.mean().item(), rel=1e-5)
        assert rows[(case, "unstable")]["ok/diverged/missing"] == f"0/{len(seeds)}/0"
        for seed in seeds:
            step = int(cube["diverged_at"].sel({"case": case, "method": "unstable", "seed": seed}))
            assert f"- diverged: {case}/unstable/seed{seed} at step {step}" in markdown
