"""After an edit, `snakemake -n` plans exactly the jobs the edit affects (in a copy of the shared run)."""
import nbformat
import pytest
import yaml

from reliability_helpers import copy_workdir, planned_jobs, raw_test_config
from workflow_helpers import TEST_CONFIG, snakemake

pytestmark = pytest.mark.workflow


def every_run(config):
    return {f"results/runs/{case}/{method}/seed{seed}.nc"
            for case in config["cases"] for method in config["methods"] for seed in config["seeds"]}


def dry_run(workdir):
    result = snakemake(workdir, "-n", *TEST_CONFIG)
    return planned_jobs(result.stdout + result.stderr)


def test_a_config_change_plans_exactly_the_affected_runs(pipeline, test_config, tmp_path):
    workdir = copy_workdir(pipeline, tmp_path / "pipeline")
    config = raw_test_config()
    case, method = next(iter(config["cases"])), list(config["methods"])[-1]
    config["cases"][case]["dataset"]["noise_std"] *= 2  # the case's data set and all its runs
    config["methods"][method]["n_members"] += 1  # every run of the method
    (workdir / "config" / "test.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    planned = dry_run(workdir)
    affected = {path for path in every_run(test_config) if f"/{case}/" in path or f"/{method}/" in path}
    assert planned["dataset"] == {f"data/{case}.nc"}
    assert planned["train"] == affected and affected != every_run(test_config)


def test_editing_the_notebook_template_reruns_every_train_job(pipeline, test_config, tmp_path):
    workdir = copy_workdir(pipeline, tmp_path / "pipeline")
    template = workdir / "notebooks" / "train.ipynb"
    notebook = nbformat.read(template, as_version=4)
    notebook.cells.append(nbformat.v4.new_markdown_cell("An edited template."))
    nbformat.write(notebook, template)
    planned = dry_run(workdir)
    assert planned["train"] == every_run(test_config)
    assert "dataset" not in planned
