"""Same configuration, same numbers: whatever subset of runs is requested and however many cores run
them; the methods of one (case, seed) share their data and initial state (paired comparisons).

A rerun of the whole configuration with `--cores 8` is compared with the shared `--cores 4` run in
test_resume.py; `wall_time` (a timing) is the only data variable left out of every comparison.
"""
import numpy as np
import pytest

import datrain
from datrain import experiment
from datrain import io as dio
from reliability_helpers import assert_same_results
from workflow_helpers import TEST_CONFIG, copy_pipeline, snakemake

pytestmark = pytest.mark.workflow


def pairs(config):
    """(gradient methods, DA methods) of the configuration whose initial states must coincide:
    same trainer family, ensemble size and (for DA) prior std."""
    groups = {}
    for method, spec in config["methods"].items():
        key = ("da", spec["n_members"], spec["prior_std"]) if spec["trainer"] in experiment.DA_TRAINERS \
            else ("gradient", spec["n_members"])
        groups.setdefault(key, []).append(method)
    return [methods for methods in groups.values() if len(methods) > 1]


def test_a_requested_subset_run_with_one_core_equals_the_full_run(pipeline, test_config, tmp_path):
    cases, methods, seeds = list(test_config["cases"]), list(test_config["methods"]), test_config["seeds"]
    subset = [f"results/runs/{cases[-1]}/{methods[-1]}/seed{seeds[-1]}.nc",
              f"results/runs/{cases[0]}/{methods[0]}/seed{seeds[0]}.nc"]
    workdir = copy_pipeline(tmp_path)
    snakemake(workdir, "--cores", "1", *TEST_CONFIG, *subset)
    assert sorted(str(p.relative_to(workdir)) for p in workdir.glob("results/runs/*/*/seed*.nc")) == sorted(subset)
    for path in subset:
        assert_same_results(workdir / path, pipeline / path)
    for case in (cases[0], cases[-1]):
        assert_same_results(workdir / f"data/{case}.nc", pipeline / f"data/{case}.nc")


def test_methods_of_one_case_and_seed_start_from_the_same_state(pipeline, test_config):
    """Iteration 0 of every run is its initial state (no cost spent yet): methods with the same
    initial-state settings have identical initial scores, and different seeds differ."""
    groups = pairs(test_config)
    assert groups, "config/test.yaml has no two methods with the same initial-state settings"
    cube = dio.read_netcdf(pipeline / "results" / "summary.nc").isel(iteration=0)
    assert (cube["n_forward"] == 0).all()
    for methods in groups:
        names = ["train_rmse", "test_rmse", "param_spread"]
        first = cube[names].sel({"method": methods[0]})
        for other in methods[1:]:
            for name in names:
                np.testing.assert_array_equal(cube[name].sel({"method": other}).values, first[name].values,
                                              err_msg=f"{name}: {other} vs {methods[0]}")
        seeds = first["test_rmse"].transpose("case", "seed").values
        assert np.unique(seeds, axis=1).shape == seeds.shape, "two seeds gave the same initial state"


def test_paired_methods_draw_identical_initial_ensembles(test_config):
    """The same check on the arrays themselves (datrain.experiment, as the notebook calls it); that the
    streams depend on (base_seed, case, seed) only, never on call order, is tests/unit/test_seeding.py."""
    case = next(iter(test_config["cases"]))
    data = experiment.make_case_dataset(case, test_config["cases"][case]["dataset"], test_config["base_seed"])
    for methods in pairs(test_config):
        for seed in test_config["seeds"]:
            ensembles = []
            for method in methods:
                run = experiment.resolve_run(test_config, case, method, seed)
                rng = datrain.seeding.streams(run["base_seed"], case, seed)["init"]
                ensembles.append(experiment.initial_ensemble(experiment.build_model(run, data), run["trainer"], rng))
            for method, ensemble in zip(methods[1:], ensembles[1:]):
                np.testing.assert_array_equal(ensemble, ensembles[0], err_msg=f"{method} vs {methods[0]}")
