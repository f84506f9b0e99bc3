"""A tiny pipeline run whose default target includes the sweeps (so the claims table draws on them)."""
import shutil
from pathlib import Path

import pytest
import yaml

from extension_helpers import SWEEP_CONFIG
from workflow_helpers import snakemake


@pytest.fixture(scope="session")
def sweep_pipeline(pipeline, tmp_path_factory) -> Path:
    """A copy of the shared tiny run (config/test.yaml), completed under config/test_sweeps.yaml: the same
    configuration with ``sweeps.in_default_target: true`` (sweeps, their tables and figures, and the
    claims table drawing on them)."""
    workdir = tmp_path_factory.mktemp("sweep_pipeline") / "pipeline"
    shutil.copytree(pipeline, workdir, symlinks=True)
    config = yaml.safe_load((workdir / "config" / "test.yaml").read_text())
    config["sweeps"]["in_default_target"] = True
    (workdir / "config" / "test_sweeps.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    snakemake(workdir, "--cores", "4", *SWEEP_CONFIG)
    return workdir
