"""The default configuration plans exactly one train job per (case, method, seed)."""
import re

import pytest

from workflow_helpers import REPO, copy_pipeline, load_config, snakemake

pytestmark = pytest.mark.workflow


def job_counts(dry_run_output: str) -> dict[str, int]:
    """Parse the `job  count` table that `snakemake -n` prints."""
    return {name: int(count) for name, count in re.findall(r"^(\w+)\s+(\d+)\s*$", dry_run_output, re.M)}


def test_dry_run_of_default_config_plans_cases_x_methods_x_seeds_train_jobs(tmp_path):
    workdir = copy_pipeline(tmp_path)
    config = load_config(REPO / "config" / "config.yaml")
    counts = job_counts(snakemake(workdir, "-n", "--quiet", "rules").stdout)
    assert counts["train"] == len(config["cases"]) * len(config["methods"]) * len(config["seeds"])
    assert counts["dataset"] == len(config["cases"])
    assert counts["aggregate"] == 1
    assert not (workdir / "results").exists()
