"""Shared fixtures: one tiny pipeline run (config/test.yaml) reused by every end-to-end test."""
from pathlib import Path

import pytest

from workflow_helpers import REPO, TEST_CONFIG, copy_pipeline, load_config, snakemake


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory) -> Path:
    """A tmp copy of the pipeline after one complete run of config/test.yaml (`--cores 4`)."""
    workdir = copy_pipeline(tmp_path_factory.mktemp("pipeline"))
    snakemake(workdir, "--cores", "4", *TEST_CONFIG)
    return workdir


@pytest.fixture(scope="session")
def test_config() -> dict:
    return load_config(REPO / "config" / "test.yaml")
