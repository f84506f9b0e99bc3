"""Matched-budget table and calibration table from small hand-made cubes with known answers."""
import numpy as np
import pytest
import xarray as xr

from datrain import budget, calibration

SEEDS = [0, 1, 2]


def cube_with_costs():
    """One case; gd records every 100 evaluations, esmda every 50 and stops at 200 (its budget)."""
    costs = {"gd": [0, 100, 200, 300, 400], "esmda": [0, 50, 100, 150, 200]}
    rmse = {"gd": [1.0, 0.8, 0.6, 0.4, 0.2], "esmda": [1.0, 0.7, 0.5, 0.45, 0.42]}
    methods = list(costs)
    n_forward = np.array([[costs[m]] * len(SEEDS) for m in methods], dtype=float)[None]
    offsets = np.array([0.0, 0.01, 0.02])[None, None, :, None]
    test_rmse = np.array([[rmse[m]] * len(SEEDS) for m in methods])[None] + offsets
    dims = ("case", "method", "seed", "iteration")
    return xr.Dataset(
        {"n_forward": (dims, n_forward), "test_rmse": (dims, test_rmse), "test_r2": (dims, 1 - test_rmse),
         "status": (dims[:3], np.full((1, 2, 3), "ok"))},
        coords={"case": ["sine"], "method": methods, "seed": SEEDS, "iteration": np.arange(5)})


def test_budget_table_cuts_each_run_at_the_last_step_within_the_budget():
    cube = cube_with_costs()
    table = budget.budget_table(cube, "esmda", [0.5, 1.0, 2.0], "gd").set_index(["multiple", "method"])
    assert table.loc[(1.0, "gd"), "budget"] == 200
    # half budget (100): gd at its step 1 (0.8), esmda at its step 2 (0.5); means over seeds + 0.01
    assert table.loc[(0.5, "gd"), "test_rmse_mean"] == pytest.approx(0.81)
    assert table.loc[(0.5, "esmda"), "test_rmse_mean"] == pytest.approx(0.51)
    assert table.loc[(0.5, "esmda"), "finished"] == 0.0 and table.loc[(1.0, "esmda"), "finished"] == 1.0
    assert table.loc[(0.5, "esmda"), "beats_baseline"] == 1.0
    # twice the budget (400): gd has finished and wins; esmda keeps its final state
    assert table.loc[(2.0, "gd"), "test_rmse_mean"] == pytest.approx(0.21)
    assert table.loc[(2.0, "esmda"), "test_rmse_mean"] == pytest.approx(0.43)
    assert table.loc[(2.0, "esmda"), "beats_baseline"] == 0.0
    assert table.loc[(2.0, "esmda"), "cost_used"] == pytest.approx(0.5)
    assert np.isnan(table.loc[(1.0, "gd"), "beats_baseline"])
    assert table.loc[(1.0, "gd"), "test_rmse_ci"] == pytest.approx(0.01 * 4.302652729911275 / np.sqrt(3))


def test_budget_table_ignores_diverged_runs_and_reports_them_as_missing():
    cube = cube_with_costs()
    cube["status"].loc[{"method": "gd", "seed": 0}] = "diverged"
    table = budget.budget_table(cube, "esmda", [1.0], "gd").set_index("method")
    assert table.loc["gd", "n_ok"] == 2 and table.loc["esmda", "n_ok"] == 3
    assert table.loc["gd", "test_rmse_mean"] == pytest.approx(0.615)
    frame = budget.budget_frame(cube, "esmda", [1.0])
    assert len(frame) == 5 and set(frame.columns) == {"multiple", "case", "method", "seed", "test_rmse"}


def ensemble_cube():
    """Two methods with known coverage; one single network (no interval)."""
    levels = [0.5, 0.9]
    coverage = np.array([[[0.5, 0.9]] * 2, [[0.1, 0.3]] * 2, [[np.nan, np.nan]] * 2])[None]
    dims = ("case", "method", "seed")
    return xr.Dataset(
        {"coverage": (dims + ("level",), coverage), "crps": (dims, [[[0.1, 0.2], [0.3, 0.3], [0.5, 0.5]]]),
         "final_test_rmse": (dims, np.full((1, 3, 2), 0.2)), "n_members": (dims, [[[8, 8], [8, 8], [1, 1]]]),
         "status": (dims, np.full((1, 3, 2), "ok"))},
        coords={"case": ["sine"], "method": ["esmda", "enkf", "gd"], "seed": [0, 1], "level": levels})


def test_calibration_table_of_ensembles_only():
    cube = ensemble_cube()
    assert calibration.ensemble_methods(cube) == ["esmda", "enkf"]
    error = calibration.coverage_error(cube)
    np.testing.assert_allclose(error.sel({"method": "esmda"}).values.ravel(), [0.0, 0.0])
    np.testing.assert_allclose(error.sel({"method": "enkf"}).values.ravel(), [0.5, 0.5])  # (0.4 + 0.6) / 2
    table = calibration.calibration_table(cube).set_index("method")
    assert list(table.index) == ["esmda", "enkf"]
    assert table.loc["enkf", "coverage_90_mean"] == pytest.approx(0.3)
    assert table.loc["esmda", "crps_mean"] == pytest.approx(0.15)
    frame = calibration.coverage_frame(cube)
    assert set(frame["method"]) == {"esmda", "enkf"} and len(frame) == 8
