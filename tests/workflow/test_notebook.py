"""The notebook template declares exactly the parameters the train rule passes, with the same types."""
import importlib.util
import json
import sys

import nbformat
import papermill

from workflow_helpers import REPO, load_config
from datrain.experiment import resolve_run

TEMPLATE = REPO / "notebooks" / "train.ipynb"


def load_script(name):
    """Import a rule script as a module (its helpers sit next to it, as Snakemake arranges)."""
    scripts = str(REPO / "workflow" / "scripts")
    if scripts not in sys.path:
        sys.path.append(scripts)
    spec = importlib.util.spec_from_file_location(name, REPO / "workflow" / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_declared_parameters_match_what_the_rule_passes():
    run_notebook = load_script("run_notebook")
    declared = papermill.inspect_notebook(str(TEMPLATE))
    config = load_config(REPO / "config" / "config.yaml")
    for case in config["cases"]:
        for method in config["methods"]:
            run = resolve_run(config, case, method, config["seeds"][0])
            passed = run_notebook.notebook_parameters(run, "data/x.nc", "results/x.nc", "train")
            assert set(passed) == set(declared)
            for name, value in passed.items():
                assert type(value).__name__ == declared[name]["inferred_type_name"], name


def test_json_parameters_round_trip_to_the_resolved_run():
    run_notebook = load_script("run_notebook")
    config = load_config(REPO / "config" / "config.yaml")
    run = resolve_run(config, "sine", "esmda", config["seeds"][0])
    passed = run_notebook.notebook_parameters(run, "d.nc", "o.nc", "train")
    rebuilt = {"case": passed["case"], "method": passed["method"], "seed": passed["seed"],
               "base_seed": passed["base_seed"], "dataset": json.loads(passed["dataset_json"]),
               "model": json.loads(passed["model_json"]), "trainer": json.loads(passed["trainer_json"]),
               "coverage_levels": json.loads(passed["coverage_levels_json"])}
    assert rebuilt == run


def test_template_is_stored_without_outputs_and_with_a_parameters_cell():
    notebook = nbformat.read(TEMPLATE, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    assert sum("parameters" in cell.metadata.get("tags", []) for cell in code) == 1
    assert notebook.metadata["kernelspec"]["name"] == "python3"
