"""The extension in the pipeline: sweep targets, cost counters of the run files, and the generated tables.

Uses the tiny pipeline run with the sweeps in its default target (fixture ``sweep_pipeline``,
tests/extension/conftest.py), dry runs of the default configuration and one single-point sweep run.
"""
import json
import math
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from datrain import claims
from datrain import io as dio
from datrain import sweeps
from extension_helpers import SWEEP_CONFIG
from workflow_helpers import REPO, TEST_CONFIG, copy_pipeline, load_config, snakemake

pytestmark = pytest.mark.workflow


def job_counts(dry_run_output: str) -> dict[str, int]:
    return {name: int(count) for name, count in re.findall(r"^(\w+)\s+(\d+)\s*$", dry_run_output, re.M)}


def grid_size(config, grids=None):
    """Number of (point, case, method) sweep jobs the configuration asks for."""
    grids = config["sweeps"]["grids"] if grids is None else grids
    return sum(len(sweeps.grid_points(grid)) * len(config["cases"]) * len(grid["methods"])
               for grid in grids.values())


def test_dry_run_of_the_sweeps_target_plans_one_job_per_grid_point(tmp_path):
    workdir = copy_pipeline(tmp_path)
    config = load_config(REPO / "config" / "config.yaml")
    counts = job_counts(snakemake(workdir, "-n", "sweeps", "--quiet", "rules").stdout)
    grids = config["sweeps"]["grids"]
    assert counts["sweep_run"] == grid_size(config)
    data_grids = {name: grid for name, grid in grids.items() if sweeps.changes_data(grid)}
    assert counts["sweep_dataset"] == sum(len(sweeps.grid_points(g)) for g in data_grids.values()) * len(config["cases"])
    assert counts["sweep_aggregate"] == counts["sweep_report"] == len(grids)
    expected = {"ensemble_size": 5 * 2 * 2, "esmda_schedule": 6 * 2 * 2, "enkf_batches": 16 * 2,
                "noise": 3 * 2 * 4, "hidden_width": 4 * 2 * 4, "learning_rate": 4 * 2 * 2}
    assert {name: grid_size(config, {name: grid}) for name, grid in grids.items()} == expected
    default = job_counts(snakemake(workdir, "-n", "--quiet", "rules").stdout)
    assert ("sweep_run" in default) == config["sweeps"]["in_default_target"]


def test_one_grid_point_is_a_target_of_its_own(tmp_path):
    workdir = copy_pipeline(tmp_path)
    target = "results/sweeps/esmda_schedule/n_assimilations=2,schedule=geometric/sine/esmda.nc"
    out = snakemake(workdir, "--cores", "2", target, *TEST_CONFIG)
    assert job_counts(out.stdout + out.stderr) == {"dataset": 1, "sweep_run": 1, "total": 2}
    run = dio.read_netcdf(workdir / target)
    config = load_config(REPO / "config" / "test.yaml")
    alphas = run["alpha"].sel(case="sine").sel({"method": "esmda"}).values
    for row in alphas:
        np.testing.assert_allclose(row[np.isfinite(row)], sweeps.geometric_schedule(2, 10))
    assert list(run["seed"].values) == config["sweeps"]["seeds"]
    assert (run["status"] == "ok").all()


def expected_cost(trainer: dict, step: np.ndarray, n_train: int) -> np.ndarray:
    """Cumulative training cost after ``step`` trainer steps, by each algorithm's definition."""
    n_members = trainer["n_members"]
    if trainer["trainer"] in ("gd", "adam"):  # every epoch: forward + backward (2) over all rows, per member
        return step * 3 * n_train * n_members
    if trainer["trainer"] == "esmda":  # every assimilation: one forward run of all members on all rows
        return step * n_members * n_train
    per_epoch = math.ceil(n_train / trainer["batch_size"])  # enkf: one forward run per row and member
    rows = (step // per_epoch) * n_train + np.minimum((step % per_epoch) * trainer["batch_size"], n_train)
    return rows * n_members


def final_steps(trainer: dict, alphas: np.ndarray, n_train: int) -> int:
    if trainer["trainer"] in ("gd", "adam"):
        return trainer["epochs"]
    if trainer["trainer"] == "enkf":
        return trainer["epochs"] * math.ceil(n_train / trainer["batch_size"])
    if trainer["alphas"] == "adaptive":
        return int(np.isfinite(alphas).sum())
    return trainer["alphas"] if isinstance(trainer["alphas"], int) else len(trainer["alphas"])


def run_files(pipeline):
    """(path, resolved run, one-seed slice) of every main and sweep run file."""
    for path in sorted((pipeline / "results" / "runs").rglob("*.nc")):
        ds = dio.read_netcdf(path)
        yield path, json.loads(ds.attrs["parameters"]), ds.squeeze(["case", "method", "seed"])
    for path in sorted((pipeline / "results" / "sweeps").glob("*/*/*/*.nc")):
        ds = dio.read_netcdf(path)
        for run in json.loads(ds.attrs["parameters"])["runs"]:
            yield path, run, ds.sel(seed=run["seed"]).squeeze(["case", "method"])


def test_cost_counters_follow_each_algorithm_and_exclude_monitoring(sweep_pipeline):
    """ESMDA: Na x N x n_train; EnKF: epochs x N x n_train; GD/Adam: epochs x 3 x n_train x N -- at the
    end, and at every recorded step, however often the run was monitored."""
    checked = set()
    for path, run, ds in run_files(sweep_pipeline):
        trainer, n_train = run["trainer"], run["dataset"]["n_train"]
        recorded = ds["step"].notnull().values
        step = ds["step"].values[recorded].astype(int)
        cost = ds["n_forward"].values[recorded]
        np.testing.assert_array_equal(cost, expected_cost(trainer, step, n_train), err_msg=str(path))
        assert step[-1] == final_steps(trainer, ds["alpha"].values, n_train), path
        if trainer["trainer"] in ("gd", "adam"):
            total = trainer["epochs"] * 3 * n_train * trainer["n_members"]
        elif trainer["trainer"] == "enkf":
            total = trainer["epochs"] * trainer["n_members"] * n_train
        else:  # Na assimilations: the schedule's length, or as many as the adaptive controller took
            total = step[-1] * trainer["n_members"] * n_train
        assert cost[-1] == total, path
        checked.add(run["method"] if "sweeps" not in path.parts else "sweep " + run["method"])
    assert checked >= {"gd", "adam", "enkf", "esmda", "esmda_adaptive", "deep_ensemble", "sweep gd", "sweep esmda"}


def test_a_sweep_point_at_the_main_setting_reproduces_the_main_runs(sweep_pipeline, test_config):
    """The learning-rate point equal to gd's main setting, monitored half as often, gives the same runs."""
    sweep = dio.read_netcdf(sweep_pipeline / "results" / "sweeps" / "learning_rate.nc")
    cube = dio.read_netcdf(sweep_pipeline / "results" / "summary.nc")
    seeds = test_config["sweeps"]["seeds"]
    assert test_config["sweeps"]["record_every"] != test_config["methods"]["gd"]["record_every"]
    for name in ("final_test_rmse", "final_train_rmse", "crps", "n_forward"):
        ours = sweep[name].sel(point="learning_rate=0.1").sel({"method": "gd"})
        main = cube[name].sel({"method": "gd", "seed": seeds})
        if "iteration" in ours.dims:
            ours, main = claims.last_finite(ours), claims.last_finite(main)
        np.testing.assert_array_equal(ours.transpose("case", "seed").values, main.transpose("case", "seed").values)
    assert sweep.sizes["iteration"] < cube["step"].sel({"method": "gd"}).notnull().sum("iteration").max()


def test_every_sweep_has_one_file_per_grid_point_and_a_cube(sweep_pipeline, test_config):
    grids = test_config["sweeps"]["grids"]
    files = sorted((sweep_pipeline / "results" / "sweeps").glob("*/*/*/*.nc"))
    assert len(files) == grid_size(test_config)
    for name, grid in grids.items():
        cube = dio.read_netcdf(sweep_pipeline / "results" / "sweeps" / f"{name}.nc")
        assert list(cube["point"].values) == [label for label, _ in sweeps.grid_points(grid)]
        assert list(cube["method"].values) == grid["methods"]
        assert list(cube["case"].values) == list(test_config["cases"])
        assert list(cube["seed"].values) == test_config["sweeps"]["seeds"]
        assert (cube["status"] == "ok").all()
        table = pd.read_csv(sweep_pipeline / "results" / "tables" / f"sweep_{name}.csv")
        n_references = len(grid.get("references", [])) * len(test_config["cases"])
        assert len(table) == len(cube["point"]) * len(test_config["cases"]) * len(grid["methods"]) + n_references
    noise = dio.read_netcdf(sweep_pipeline / "results" / "sweeps" / "noise.nc")
    y = noise["y_train"].sel(case="sine")
    assert not np.allclose(y.isel(point=0), y.isel(point=1))  # each noise level has its own data


def test_claims_table_is_computed_from_the_summary_and_sweep_cubes(sweep_pipeline, test_config):
    cube = dio.read_netcdf(sweep_pipeline / "results" / "summary.nc")
    spec, budget = test_config["analysis"]["claims"], test_config["analysis"]["budget"]
    extra = {}
    for name, grid in test_config["sweeps"]["grids"].items():
        sweep = dio.read_netcdf(sweep_pipeline / "results" / "sweeps" / f"{name}.nc")
        extra[f"sweep {name}"] = claims.sweep_settings(sweep, cube if sweeps.trainer_only(grid) else None)
    expected = claims.claims_table(
        cube, spec["da_methods"], test_config["analysis"]["baseline"], extra, optimiser=spec["optimiser"],
        budget_reference=budget["reference"], budget_multiples=budget["multiples"], adaptive=spec["adaptive"],
        fixed_schedule=spec["fixed_schedule"], deep_ensemble=spec["deep_ensemble"])
    table = pd.read_csv(sweep_pipeline / "results" / "tables" / "claims.csv", keep_default_na=False, na_values=[""])
    assert len(table) == len(expected)
    assert list(table["setting"]) == list(expected["setting"])
    assert list(table["verdict"]) == list(expected["verdict"])
    np.testing.assert_allclose(table["difference"], expected["difference"], rtol=1e-5)
    groups = set(table["setting_group"])
    assert {"main", "equal budget"} | {f"sweep {name}" for name in test_config["sweeps"]["grids"]} <= groups
    assert set(table["claim"]) == {claims.PERFORMANCE_CLAIM, claims.ADAM_CLAIM, claims.UNCERTAINTY_CLAIM,
                                   claims.ADAPTIVE_CLAIM, claims.CALIBRATION_CLAIM}
    markdown = (sweep_pipeline / "results" / "tables" / "claims.md").read_text()
    for verdict in claims.claims_summary(expected)["verdict"]:
        assert f"| {verdict} " in markdown


def test_budget_and_calibration_tables_cover_every_method(sweep_pipeline, test_config):
    table = pd.read_csv(sweep_pipeline / "results" / "tables" / "equal_budget.csv")
    multiples = test_config["analysis"]["budget"]["multiples"]
    assert len(table) == len(test_config["cases"]) * len(test_config["methods"]) * len(multiples)
    reference = table[table["method"] == test_config["analysis"]["budget"]["reference"]]
    assert (reference[reference["multiple"] >= 1]["finished"] == 1).all()
    calibration = pd.read_csv(sweep_pipeline / "results" / "tables" / "calibration.csv")
    ensembles = [m for m, spec in test_config["methods"].items() if spec["n_members"] > 1]
    assert sorted(set(calibration["method"])) == sorted(ensembles)
    assert calibration.filter(like="coverage_").notnull().all().all()


def test_readme_results_section_is_regenerated_between_the_markers(sweep_pipeline, tmp_path):
    script = REPO / "workflow" / "scripts" / "readme_results.py"
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n\nintro\n\n<!-- results:start -->\nold text\n<!-- results:end -->\n\n## After\n")
    run = subprocess.run([sys.executable, str(script), "--readme", str(readme), "--root", str(sweep_pipeline)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    text = readme.read_text()
    assert text.startswith("# Title\n\nintro\n\n<!-- results:start -->\n") and text.endswith(
        "<!-- results:end -->\n\n## After\n")
    assert "old text" not in text
    summary = claims.claims_summary(pd.read_csv(sweep_pipeline / "results" / "tables" / "claims.csv"))
    for row in summary.itertuples():
        assert row.claim in text and row.holds_in in text
    assert dio.read_netcdf(sweep_pipeline / "results" / "summary.nc").attrs["config_sha256"][:12] in text
    first = text
    assert subprocess.run([sys.executable, str(script), "--readme", str(readme), "--root", str(sweep_pipeline)],
                          capture_output=True, timeout=120).returncode == 0
    assert readme.read_text() == first  # idempotent
    readme.write_text("# no markers\n")
    failed = subprocess.run([sys.executable, str(script), "--readme", str(readme), "--root", str(sweep_pipeline)],
                            capture_output=True, text=True, timeout=120)
    assert failed.returncode != 0 and "<!-- results:start -->" in failed.stderr
    assert readme.read_text() == "# no markers\n"


def test_report_has_the_extension_figures_and_tables(sweep_pipeline):
    snakemake(sweep_pipeline, "--report", "results/report.html", *SWEEP_CONFIG)
    html = (sweep_pipeline / "results" / "report.html").read_text()
    for name in ["equal_budget.png", "calibration.png", "claims.md", "claims.csv", "equal_budget.csv",
                 "calibration.csv"] + [p.name for p in (sweep_pipeline / "results" / "figures").glob("sweep_*.png")]:
        assert name in html, name
    assert len(list((sweep_pipeline / "results" / "figures").glob("sweep_*.png"))) == 3
