"""A tiny end-to-end run (config/test.yaml) in a temporary directory, reused by every test here."""
import json

import numpy as np
import pandas as pd
import pytest

from workflow_helpers import TEST_CONFIG, copy_pipeline, snakemake
from datrain import io as dio
from datrain.experiment import resolve_run

pytestmark = pytest.mark.workflow

PROVENANCE = ("config_sha256", "datrain_version", "git_commit", "numpy_version", "xarray_version",
              "snakemake_version", "seeds", "rule", "parameters")


def declared_files(workdir):
    """Every output and log file of the DAG, from `snakemake --summary`."""
    lines = snakemake(workdir, "--summary", *TEST_CONFIG).stdout.strip().splitlines()
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"))) for line in lines[1:]]
    logs = [log for row in rows for log in row["log-file(s)"].split(",") if log and log != "-"]
    return [row["output_file"] for row in rows], logs


def test_every_declared_output_and_log_exists(pipeline, test_config):
    outputs, logs = declared_files(pipeline)
    n_runs = len(test_config["cases"]) * len(test_config["methods"]) * len(test_config["seeds"])
    assert sum(path.startswith("results/runs/") for path in outputs) == n_runs
    assert sum(path.startswith("results/notebooks/") for path in logs) == n_runs
    missing = [path for path in outputs + logs if not (pipeline / path).is_file()]
    assert not missing


def test_a_second_dry_run_has_nothing_to_do(pipeline):
    assert "Nothing to be done" in snakemake(pipeline, "-n", *TEST_CONFIG).stdout


def test_summary_cube_has_the_documented_layout_and_finite_values(pipeline, test_config):
    cube = dio.read_netcdf(pipeline / "results" / "summary.nc")
    assert list(cube["case"].values) == list(test_config["cases"])
    assert list(cube["method"].values) == list(test_config["methods"])
    assert list(cube["seed"].values) == test_config["seeds"]
    assert set(dio.RUN_VARIABLES) <= set(cube.data_vars)
    assert (cube["status"] == "ok").all() and (cube["diverged_at"] == -1).all()
    for name in ("final_train_rmse", "final_test_rmse", "final_train_r2", "final_test_r2", "crps",
                 "n_members", "n_params", "members_per_param"):
        assert np.isfinite(cube[name]).all(), name
    recorded = cube["step"].notnull()  # the outer join pads shorter histories with NaN
    for name in ("n_forward", "train_rmse", "train_r2", "test_rmse", "test_r2", "wall_time"):
        assert np.isfinite(cube[name].where(recorded, 0.0)).all(), name
        assert cube[name].notnull().equals(recorded), name
    for case in test_config["cases"]:
        points = cube["y_test"].sel(case=case).notnull()
        assert np.isfinite(cube["pred_mean"].sel(case=case).where(points, 0.0)).all()
    ensembles = cube["n_members"] > 1
    assert np.isfinite(cube["coverage"].where(ensembles, 0.5)).all()
    assert set(PROVENANCE) <= set(cube.attrs)
    assert cube.attrs["git_commit"] == "unknown"  # the tmp copy is outside git
    assert json.loads(cube.attrs["missing_runs"]) == []


def test_run_files_carry_the_hash_of_their_resolved_configuration(pipeline, test_config):
    for case in test_config["cases"]:
        for method in test_config["methods"]:
            seed = test_config["seeds"][-1]
            run = dio.read_netcdf(pipeline / f"results/runs/{case}/{method}/seed{seed}.nc")
            expected = resolve_run(test_config, case, method, seed)
            assert run.attrs["config_sha256"] == dio.config_sha256(expected)
            assert json.loads(run.attrs["parameters"]) == expected
            assert run.attrs["rule"] == "train"
            assert {name: run.sizes[name] for name in dio.RUN_DIMS} == {"case": 1, "method": 1, "seed": 1}


def test_tables_have_one_row_per_case_and_method_and_name_the_config_hash(pipeline, test_config):
    cube_hash = dio.read_netcdf(pipeline / "results" / "summary.nc").attrs["config_sha256"]
    assert cube_hash == dio.config_sha256(test_config)
    table = pd.read_csv(pipeline / "results" / "tables" / "comparison.csv")
    pairs = [(case, method) for case in test_config["cases"] for method in test_config["methods"]]
    assert list(zip(table["case"], table["method"])) == pairs
    assert (table["config_sha256"] == cube_hash).all()
    assert (table["n_ok"] == len(test_config["seeds"])).all()
    markdown = (pipeline / "results" / "tables" / "comparison.md").read_text()
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and not line.startswith("| case")]
    assert len(rows) == len(pairs)
    for path in ("comparison.md", "comparison.tex"):
        assert cube_hash in (pipeline / "results" / "tables" / path).read_text()


def test_report_builds_with_every_figure_and_table(pipeline):
    snakemake(pipeline, "--report", "results/report.html", *TEST_CONFIG)
    html = (pipeline / "results" / "report.html").read_text()
    for path in sorted((pipeline / "results" / "figures").glob("*.png")) + [
            pipeline / "results" / "tables" / "comparison.csv"]:
        assert path.name in html, path.name


def test_lint_is_clean(tmp_path):
    result = snakemake(copy_pipeline(tmp_path), "--lint", check=False)
    assert result.returncode == 0 and "Lints for" not in result.stdout + result.stderr, result.stdout
