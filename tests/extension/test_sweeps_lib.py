"""Sweep grids and what each grid point changes in a resolved run (datrain.sweeps), without Snakemake."""
import copy
import re

import numpy as np
import pytest
import xarray as xr

from datrain import sweeps
from datrain.experiment import resolve_run

CONFIG = {
    "base_seed": 1,
    "seeds": [0, 1, 2],
    "cases": {"sine": {"dataset": {"problem": "sine", "n_train": 20, "n_test": 11, "noise_std": 0.1,
                                   "domain": [-3.0, 3.0]},
                       "model": {"hidden": [4, 3], "activation": "tanh"}}},
    "methods": {
        "gd": {"trainer": "gd", "n_members": 1, "learning_rate": 0.1, "epochs": 20, "batch_size": None,
               "record_every": 5},
        "enkf": {"trainer": "enkf", "n_members": 6, "prior_std": 1.0, "obs_std": 0.1, "batch_size": 5,
                 "epochs": 2, "record_every": 1},
        "esmda": {"trainer": "esmda", "n_members": 6, "prior_std": 1.0, "obs_std": 0.1, "alphas": 4,
                  "normalize": True},
    },
    "evaluation": {"coverage_levels": [0.5, 0.9]},
    "sweeps": {
        "in_default_target": False, "seeds": [0, 2], "record_every": 7, "geometric_first_to_last": 10,
        "grids": {
            "schedule": {"methods": ["esmda"], "parameters": {"n_assimilations": [1, 4], "schedule": ["constant", "geometric"]}},
            "noise": {"methods": ["gd", "esmda"], "parameters": {"noise_std": [0.01, 0.3]}},
            "width": {"methods": ["gd"], "parameters": {"hidden_width": [8]}},
            "lr": {"methods": ["gd"], "parameters": {"learning_rate": [0.03, 0.1]}, "references": ["esmda"]},
        },
    },
}
OPTIONS = {"record_every": 7, "geometric_first_to_last": 10}


def run_of(method, seed=0):
    return resolve_run(CONFIG, "sine", method, seed)


def test_grid_is_the_cartesian_product_in_config_order():
    points = sweeps.grid_points(CONFIG["sweeps"]["grids"]["schedule"])
    assert [label for label, _ in points] == [
        "n_assimilations=1,schedule=constant", "n_assimilations=1,schedule=geometric",
        "n_assimilations=4,schedule=constant", "n_assimilations=4,schedule=geometric"]
    assert points[3][1] == {"n_assimilations": 4, "schedule": "geometric"}
    assert [label for label, _ in sweeps.grid_points({"parameters": {"learning_rate": [0.03, 1e-4]}})] == [
        "learning_rate=0.03", "learning_rate=0.0001"]


def test_schedules_constant_and_geometric():
    constant = sweeps.apply_point(run_of("esmda"), {"n_assimilations": 4, "schedule": "constant"}, OPTIONS)
    assert constant["trainer"]["alphas"] == 4
    geometric = sweeps.apply_point(run_of("esmda"), {"n_assimilations": 4, "schedule": "geometric"}, OPTIONS)
    alphas = np.array(geometric["trainer"]["alphas"])
    assert alphas.shape == (4,)
    assert np.sum(1 / alphas) == pytest.approx(1.0)
    assert alphas[0] / alphas[-1] == pytest.approx(10.0)
    assert np.all(np.diff(alphas) < 0)  # decreasing: cautious first updates
    assert sweeps.geometric_schedule(1, 10) == [1.0]


def test_each_parameter_changes_only_its_setting():
    base = run_of("esmda")
    noisy = sweeps.apply_point(base, {"noise_std": 0.3}, OPTIONS)
    assert noisy["dataset"]["noise_std"] == 0.3 and noisy["trainer"]["obs_std"] == 0.3
    gd_noisy = sweeps.apply_point(run_of("gd"), {"noise_std": 0.3}, OPTIONS)
    assert gd_noisy["dataset"]["noise_std"] == 0.3 and "obs_std" not in gd_noisy["trainer"]
    wide = sweeps.apply_point(run_of("gd"), {"hidden_width": 8}, OPTIONS)
    assert wide["model"]["hidden"] == [8, 8]
    lr = sweeps.apply_point(run_of("gd"), {"learning_rate": 0.03}, OPTIONS)
    assert lr["trainer"]["learning_rate"] == 0.03 and lr["trainer"]["record_every"] == 7
    bigger = sweeps.apply_point(base, {"n_members": 12}, OPTIONS)
    expected = copy.deepcopy(base)
    expected["trainer"]["n_members"] = 12
    assert bigger == expected  # esmda has no record_every; nothing else moves
    assert base["trainer"]["n_members"] == 6  # the input is not modified


@pytest.mark.parametrize("method, values, fragment", [
    ("esmda", {"learning_rate": 0.1}, "'learning_rate' does not apply to method 'esmda'"),
    ("gd", {"n_assimilations": 2}, "'n_assimilations' does not apply to method 'gd'"),
    ("esmda", {"schedule": "geometric"}, "needs 'n_assimilations'"),
    ("enkf", {"n_members": 1}, "n_members=1 must be >= 2"),
    ("esmda", {"epochs": 3}, "'epochs' does not apply"),
])
def test_inapplicable_points_are_rejected_by_name(method, values, fragment):
    with pytest.raises(ValueError, match=re.escape(fragment)):
        sweeps.apply_point(run_of(method), values, OPTIONS)


def test_resolve_point_gives_one_run_per_sweep_seed():
    job = sweeps.resolve_point(CONFIG, "lr", "learning_rate=0.03", "sine", "gd")
    assert [run["seed"] for run in job["runs"]] == CONFIG["sweeps"]["seeds"]
    assert all(run["trainer"]["learning_rate"] == 0.03 for run in job["runs"])
    with pytest.raises(ValueError, match="not a grid point"):
        sweeps.resolve_point(CONFIG, "lr", "learning_rate=0.5", "sine", "gd")
    with pytest.raises(ValueError, match="not swept"):
        sweeps.resolve_point(CONFIG, "lr", "learning_rate=0.03", "sine", "esmda")


def test_grid_kinds():
    grids = CONFIG["sweeps"]["grids"]
    assert sweeps.trainer_only(grids["schedule"]) and sweeps.trainer_only(grids["lr"])
    assert not sweeps.trainer_only(grids["noise"]) and sweeps.changes_data(grids["noise"])
    assert not sweeps.trainer_only(grids["width"]) and not sweeps.changes_data(grids["width"])


@pytest.mark.parametrize("change, fragment", [
    (lambda c: c["sweeps"].update(seeds=[0, 5]), "seeds [5] are not in seeds"),
    (lambda c: c["sweeps"]["grids"]["lr"].update(methods=["sgd"]), "sweeps.grids.lr.methods"),
    (lambda c: c["sweeps"]["grids"]["lr"].update(references=["ens"]), "sweeps.grids.lr.references"),
    (lambda c: c["sweeps"]["grids"]["lr"]["parameters"].update(learning_rate=[0.1, 0.1]), "duplicate values"),
    (lambda c: c["sweeps"]["grids"]["noise"].update(methods=["enkf"], parameters={"learning_rate": [0.1]}),
     "sweeps.grids.noise: sweep parameter 'learning_rate' does not apply to method 'enkf'"),
])
def test_check_sweeps_names_the_offending_key(change, fragment):
    config = copy.deepcopy(CONFIG)
    sweeps.check_sweeps(config)  # the unchanged config passes
    change(config)
    with pytest.raises(ValueError, match=re.escape(fragment)):
        sweeps.check_sweeps(config)


def fake_file(case, method, seeds, rmse, n_iter):
    """A sweep-job file: dims (case, method, seed, iteration)."""
    shape = (1, 1, len(seeds))
    dims = ("case", "method", "seed")
    history = np.broadcast_to(np.arange(n_iter, dtype=float), shape + (n_iter,))
    return xr.Dataset(
        {"final_test_rmse": (dims, np.full(shape, rmse)), "final_test_r2": (dims, np.full(shape, 1 - rmse)),
         "crps": (dims, np.full(shape, rmse / 2)), "status": (dims, np.full(shape, "ok")),
         "n_members": (dims, np.full(shape, 4)), "n_params": (dims, np.full(shape, 8)),
         "n_forward": (dims + ("iteration",), 10 * history), "step": (dims + ("iteration",), history)},
        coords={"case": [case], "method": [method], "seed": seeds, "iteration": np.arange(n_iter)})


def test_combine_points_and_table_keep_grid_order_and_values():
    points = []
    for n, rmse in ((16, 0.1), (4, 0.3)):  # deliberately not sorted
        for case in ("sine", "hat"):
            points.append((f"n_assimilations={n}", {"n_assimilations": n},
                           fake_file(case, "esmda", [0, 2], rmse + (case == "hat"), n + 1)))
    cube = sweeps.combine_points(points)
    assert list(cube["point"].values) == ["n_assimilations=16", "n_assimilations=4"]
    assert list(cube["case"].values) == ["sine", "hat"]
    assert list(cube["swept_n_assimilations"].values) == [16, 4]
    assert sweeps.swept_parameters(cube) == {"n_assimilations": "swept_n_assimilations"}
    assert cube.sizes["iteration"] == 17  # outer join over the histories
    table = sweeps.sweep_table(cube)
    row = table[(table["point"] == "n_assimilations=4") & (table["case"] == "hat")].iloc[0]
    assert row["n_assimilations"] == 4 and row["test_rmse_mean"] == pytest.approx(1.3)
    assert row["steps"] == 4 and row["cost"] == 40 and row["members_per_param"] == 0.5
    assert row["n_ok"] == 2 and row["test_rmse_ci"] == pytest.approx(0.0)
