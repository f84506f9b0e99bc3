# Helpers shared by the rules: config checks the schema cannot express, wildcard
# constraints, the list of runs and the per-job parameters.
import math
from collections import Counter
from pathlib import Path

import jsonschema
import yaml

from datrain import experiment
from datrain import io as dio


def config_error(key, value, problem):
    """Stop before any job runs, naming the offending key and value."""
    raise ValueError(f"Invalid configuration: {key}={value!r}: {problem}")


def check_strict_integers(config, schema_path):
    """JSON Schema counts 2.0 as an integer; the trainers and the seeds need real ints."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    base = jsonschema.validators.validator_for(schema)
    checker = base.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
    )
    strict = jsonschema.validators.extend(base, type_checker=checker)(schema)
    for error in strict.iter_errors(config):
        key = ".".join(map(str, error.absolute_path)) or "config"
        config_error(key, error.instance, f"must be an integer ({error.message})")


def check_config(config):
    """Cross-key checks; the schema has already rejected unknown keys, types and ranges."""
    check_strict_integers(config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml")
    for key, values in (("seeds", config["seeds"]),
                        ("evaluation.coverage_levels", config["evaluation"]["coverage_levels"])):
        duplicates = sorted(value for value, count in Counter(values).items() if count > 1)
        if duplicates:
            config_error(key, values, f"duplicate value(s) {duplicates}")
    for case, spec in config["cases"].items():
        low, high = spec["dataset"]["domain"]
        if not low < high:
            config_error(f"cases.{case}.dataset.domain", [low, high], "needs low < high")
    for method, spec in config["methods"].items():
        alphas = spec.get("alphas")
        if isinstance(alphas, list) and not spec["normalize"]:
            total = sum(1.0 / alpha for alpha in alphas)
            if not math.isclose(total, 1.0, rel_tol=1e-9):
                config_error(f"methods.{method}.alphas", alphas,
                             f"with normalize: false, sum(1/alpha) must be 1 (it is {total:.6g})")
    baseline = config["analysis"]["baseline"]
    if baseline not in config["methods"]:
        config_error("analysis.baseline", baseline, f"is not one of the methods {sorted(config['methods'])}")


check_config(config)

CASES = list(config["cases"])
METHODS = list(config["methods"])
SEEDS = [int(seed) for seed in config["seeds"]]
CONFIG_SHA256 = dio.config_sha256(config)


wildcard_constraints:
    case="[A-Za-z][A-Za-z0-9_]*",
    method="[A-Za-z][A-Za-z0-9_]*",
    seed="0|[1-9][0-9]*",


# Software for `--software-deployment-method conda` (relative to workflow/rules/).
CONDA_ENV = "../../envs/environment.yaml"
RUN = "results/runs/{case}/{method}/seed{seed}.nc"
FIGURES = ["learning_curves_step", "learning_curves_cost", "parameter_spread", "final_test_rmse"]
TABLES = ["comparison.csv", "comparison.md", "comparison.tex"]


def expected_runs():
    """Every (case, method, seed) of the configuration, in config order."""
    return [(case, method, seed) for case in CASES for method in METHODS for seed in SEEDS]


def run_files():
    return [RUN.format(case=case, method=method, seed=seed) for case, method, seed in expected_runs()]


def present_run_files(wildcards):
    """The run files of the configuration that exist when the DAG is built (rule partial_aggregate)."""
    return [path for path in run_files() if Path(path).is_file()]


def final_outputs():
    figures = [f"fit_{case}" for case in CASES] + FIGURES
    return (
        ["results/summary.nc"]
        + [f"results/tables/{name}" for name in TABLES]
        + [f"results/figures/{name}.{ext}" for name in figures for ext in ("png", "pdf")]
    )


def dataset_parameters(wildcards):
    """What determines data/{case}.nc: the base seed, the case name and its dataset settings."""
    if wildcards.case not in config["cases"]:
        raise ValueError(f"case={wildcards.case!r} is not in config['cases'] {sorted(config['cases'])}")
    return {"case": wildcards.case, "base_seed": config["base_seed"],
            "dataset": config["cases"][wildcards.case]["dataset"]}


def run_parameters(wildcards):
    """The resolved configuration of one run (see datrain.experiment.resolve_run)."""
    return experiment.resolve_run(config, wildcards.case, wildcards.method, int(wildcards.seed))
