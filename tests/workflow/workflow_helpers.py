"""Helpers of the workflow tests: copy the pipeline, run Snakemake, load a config as the workflow does."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from snakemake.utils import validate

REPO = Path(__file__).resolve().parents[2]
PIPELINE_FILES = ("Snakefile", "workflow", "config", "notebooks", "envs")
TEST_CONFIG = ("--configfile", "config/test.yaml", "--replace-workflow-config")


def copy_pipeline(target: Path) -> Path:
    """Copy what `snakemake` needs (not data/, results/ or the library) into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for name in PIPELINE_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)
    return target


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run this interpreter's snakemake in ``workdir``; on failure the assertion shows its output."""
    result = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=workdir, capture_output=True,
                            text=True, timeout=900)
    if check:
        assert result.returncode == 0, f"snakemake {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def load_config(path: Path) -> dict:
    """A config file as the workflow sees it: validated, schema defaults filled in."""
    config = yaml.safe_load(path.read_text())
    validate(config, str(REPO / "workflow" / "schemas" / "config.schema.yaml"))
    return config
