"""Fixtures shared by tests/workflow and tests/reliability: one tiny pipeline run (config/test.yaml)
reused by every end-to-end test of the session. The helpers live in tests/workflow/workflow_helpers.py."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "workflow"))

from workflow_helpers import REPO, TEST_CONFIG, copy_pipeline, load_config, snakemake  # noqa: E402


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory) -> Path:
    """A tmp copy of the pipeline after one complete run of config/test.yaml (`--cores 4`)."""
    workdir = copy_pipeline(tmp_path_factory.mktemp("pipeline"))
    snakemake(workdir, "--cores", "4", *TEST_CONFIG)
    return workdir


@pytest.fixture(scope="session")
def test_config() -> dict:
    return load_config(REPO / "config" / "test.yaml")
