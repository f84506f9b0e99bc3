"""Every NetCDF of the shared run says what produced it; every table and figure names the config hash of
the cube it is drawn from."""
import json
import re
import subprocess
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from PIL import Image

from datrain import io as dio
from workflow_helpers import REPO, TEST_CONFIG, snakemake

pytestmark = pytest.mark.workflow

SHA256 = re.compile(r"^[0-9a-f]{64}$")
VERSIONS = {"datrain_version": metadata.version("datrain"), "numpy_version": np.__version__,
            "xarray_version": xr.__version__, "snakemake_version": metadata.version("snakemake")}


@pytest.fixture(scope="module")
def outputs(pipeline):
    """Every output file of the shared run: path -> (rule, input files), from `snakemake --detailed-summary`."""
    lines = snakemake(pipeline, "--detailed-summary", *TEST_CONFIG).stdout.strip().splitlines()
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"))) for line in lines[1:]]
    return {row["output_file"]: (row["rule"], [path for path in row["input-file(s)"].split(",") if path])
            for row in rows}


def test_every_netcdf_carries_string_provenance(pipeline, test_config, outputs):
    files = {path: rule for path, (rule, _) in outputs.items() if path.endswith(".nc")}
    assert sum(rule == "train" for rule in files.values()) == (
        len(test_config["cases"]) * len(test_config["methods"]) * len(test_config["seeds"]))
    assert {"dataset", "train", "aggregate"} <= set(files.values())
    for path, rule in files.items():
        attrs = dio.read_netcdf(pipeline / path).attrs
        provenance = {key: attrs.get(key) for key in (*VERSIONS, "config_sha256", "git_commit", "seeds", "rule")}
        assert all(isinstance(value, str) for value in provenance.values()), (path, provenance)
        assert SHA256.match(provenance["config_sha256"]), path
        assert {key: provenance[key] for key in VERSIONS} == VERSIONS, path
        assert provenance["git_commit"] == "unknown", path  # the tmp copy is outside git
        assert provenance["rule"] == rule, path
        seeds = json.loads(provenance["seeds"])
        assert seeds["base_seed"] == test_config["base_seed"], path
        if rule == "train":
            assert seeds["seed"] == int(Path(path).stem.removeprefix("seed")), path
        if rule == "aggregate":
            assert seeds["seeds"] == test_config["seeds"], path


def test_git_commit_is_the_checked_out_head_inside_git_and_unknown_outside(tmp_path):
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("the tests run outside a git checkout")
    assert dio.git_commit(REPO).removesuffix("-dirty") == head.stdout.strip()
    assert dio.git_commit(tmp_path) == "unknown"


def test_every_table_and_figure_names_the_config_hash_of_its_cube(pipeline, outputs):
    """Tables in their text; figures in a footer and, checked here, in their metadata (PNG
    ``Description``, PDF ``Subject``). The cube is the NetCDF input of the rule that drew them; of a
    rule with several input cubes (e.g. a sweep beside the main runs), one of them."""
    shown = {path: inputs for path, (_, inputs) in outputs.items()
             if path.startswith(("results/tables/", "results/figures/"))}
    assert {"results/tables/comparison.md", "results/figures/final_test_rmse.png"} <= set(shown)
    for path, inputs in shown.items():
        hashes = [dio.read_netcdf(pipeline / cube).attrs["config_sha256"] for cube in inputs if cube.endswith(".nc")]
        assert hashes, (path, inputs)
        if path.endswith((".png", ".pdf")):
            if path.endswith(".png"):
                label = Image.open(pipeline / path).text.get("Description")
            else:
                subject = re.search(rb"/Subject \((.*?)\)", (pipeline / path).read_bytes())
                label = subject and subject.group(1).decode()
            assert label in {f"summary config sha256 {h}" for h in hashes}, (path, label)
        else:
            assert any(h in (pipeline / path).read_text() for h in hashes), path
