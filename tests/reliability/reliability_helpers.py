"""Helpers of the reliability tests (on top of tests/workflow/workflow_helpers.py)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import xarray as xr
import yaml

from datrain import io as dio
from workflow_helpers import REPO

JOB_HEADER = re.compile(r"^(?:local)?rule (\w+):$")
JOB_OUTPUT = re.compile(r"^\s+output: (.+)$")


def planned_jobs(log: str) -> dict[str, set[str]]:
    """Rule name -> output files of every job block Snakemake printed (dry run or real run)."""
    jobs: dict[str, set[str]] = {}
    rule = None
    for line in log.splitlines():
        header = JOB_HEADER.match(line)
        if header:
            rule = header.group(1)
            continue
        output = JOB_OUTPUT.match(line)
        if output and rule is not None:
            jobs.setdefault(rule, set()).update(output.group(1).split(", "))
            rule = None
    return jobs


def without_timing(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` minus its timing variables (``wall_time``), the only data that may differ between reruns."""
    return ds.drop_vars(dio.TIMING_VARIABLES, errors="ignore")


def assert_same_results(path_a: Path, path_b: Path) -> None:
    """Two NetCDF files hold identical data variables, coordinates and attributes, timings excepted."""
    xr.testing.assert_identical(without_timing(dio.read_netcdf(path_a)), without_timing(dio.read_netcdf(path_b)))


def raw_test_config() -> dict:
    """config/test.yaml as written (no schema defaults filled in), to derive other configs from."""
    return yaml.safe_load((REPO / "config" / "test.yaml").read_text())


def copy_workdir(source: Path, target: Path) -> Path:
    """Copy a pipeline working directory with its results and Snakemake metadata, keeping mtimes."""
    shutil.copytree(source, target, symlinks=True)
    return target
