"""The claims table is computed from the cube: synthetic cubes with known winners flip its verdicts."""
import numpy as np
import pytest
import xarray as xr

from datrain import claims
from datrain.stats import mean_ci

CASES = ["sine", "mexican_hat"]
METHODS = ["gd", "adam", "enkf", "esmda"]
N_SEEDS, N_ITER = 6, 5


def synthetic_cube(final_rmse: dict, seed: int = 0) -> xr.Dataset:
    """Cube whose test RMSE decays to ``final_rmse[method]`` (+ small paired noise); R^2 = 1 - RMSE."""
    rng = np.random.default_rng(seed)
    shape = (len(CASES), len(METHODS), N_SEEDS, N_ITER)
    decay = np.linspace(2.0, 1.0, N_ITER)
    rmse = np.stack([final_rmse[m] * decay * np.ones((len(CASES), N_SEEDS, 1)) for m in METHODS], axis=1)
    rmse = rmse + 0.002 * rng.standard_normal(shape)
    cost = np.broadcast_to(np.arange(N_ITER) * 1000.0, shape).copy()
    spread = np.broadcast_to(np.exp(-np.arange(N_ITER)), shape).copy()
    dims = ("case", "method", "seed", "iteration")
    return xr.Dataset(
        {"test_rmse": (dims, rmse), "test_r2": (dims, 1 - rmse), "n_forward": (dims, cost),
         "param_spread": (dims, spread),
         "status": (dims[:3], np.full(shape[:3], "ok", dtype=object))},
        coords={"case": CASES, "method": METHODS, "seed": np.arange(N_SEEDS), "iteration": np.arange(N_ITER)},
    )


def overall(cube, claim):
    summary = claims.claims_summary(claims.claims_table(cube))
    return summary.set_index("claim").loc[claim, "verdict"]


def test_da_better_than_gd_holds():
    cube = synthetic_cube({"gd": 0.3, "adam": 0.05, "enkf": 0.1, "esmda": 0.1})
    assert overall(cube, claims.PERFORMANCE_CLAIM) == "holds"
    assert overall(cube, claims.ADAM_CLAIM) == "does not hold"


def test_verdict_flips_when_gd_is_clearly_better():
    cube = synthetic_cube({"gd": 0.05, "adam": 0.05, "enkf": 0.2, "esmda": 0.2})
    detail = claims.claims_table(cube)
    perf = detail[detail["claim"] == claims.PERFORMANCE_CLAIM]
    assert (perf["verdict"] == "does not hold").all()
    rmse_rows = perf[perf["metric"] == "test RMSE"]
    assert (rmse_rows["ci_low"] > 0).all()  # DA minus GD is significantly positive
    assert overall(cube, claims.PERFORMANCE_CLAIM) == "does not hold"


def test_mixed_when_only_one_method_wins():
    cube = synthetic_cube({"gd": 0.1, "adam": 0.05, "enkf": 0.3, "esmda": 0.05})
    verdict = overall(cube, claims.PERFORMANCE_CLAIM)
    assert verdict.startswith("mixed")
    assert "esmda - gd" in verdict and "enkf - gd" not in verdict


def test_uncertainty_claim_flips_when_spread_grows():
    cube = synthetic_cube({"gd": 0.3, "adam": 0.05, "enkf": 0.1, "esmda": 0.1})
    assert overall(cube, claims.UNCERTAINTY_CLAIM) == "holds"
    cube["param_spread"] = cube["param_spread"].isel(iteration=slice(None, None, -1)).assign_coords(
        iteration=cube["iteration"])
    assert overall(cube, claims.UNCERTAINTY_CLAIM) == "does not hold"


def test_differences_are_paired_means_over_seeds():
    cube = synthetic_cube({"gd": 0.3, "adam": 0.05, "enkf": 0.1, "esmda": 0.2})
    detail = claims.claims_table(cube)
    row = detail[(detail["setting"] == "main") & (detail["case"] == "sine")
                 & (detail["comparison"] == "esmda - gd") & (detail["metric"] == "test RMSE")].iloc[0]
    by_hand = mean_ci(cube["test_rmse"].sel(case="sine", iteration=N_ITER - 1).sel({"method": "esmda"}).values
                      - cube["test_rmse"].sel(case="sine", iteration=N_ITER - 1).sel({"method": "gd"}).values)
    assert row["difference"] == pytest.approx(by_hand.mean)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((by_hand.low, by_hand.high))
    assert row["n_seeds"] == N_SEEDS


def test_diverged_and_missing_runs_are_not_averaged():
    cube = synthetic_cube({"gd": 0.3, "adam": 0.05, "enkf": 0.1, "esmda": 0.1})
    cube["status"].loc[{"case": "sine", "method": "gd", "seed": 0}] = "diverged"
    for variable in ("test_rmse", "test_r2"):  # seed 1 missing for every method
        cube[variable].loc[{"case": "sine", "seed": 1}] = np.nan
    scores = claims.final_scores(cube, "test_rmse")
    assert np.isnan(scores.sel(case="sine", seed=0).sel({"method": "gd"}))
    row = claims.claims_table(cube).query("setting == 'main' and case == 'sine' and comparison == 'esmda - gd'")
    assert (row["n_seeds"] == N_SEEDS - 2).all()


def test_last_finite_and_budget_cut():
    values = xr.DataArray([[1.0, 2.0, np.nan], [np.nan, np.nan, np.nan]], dims=("run", "iteration"))
    np.testing.assert_array_equal(claims.last_finite(values).values, [2.0, np.nan])
    cube = synthetic_cube({"gd": 0.3, "adam": 0.05, "enkf": 0.1, "esmda": 0.1})
    at_budget = claims.scores_at_budget(cube, "test_rmse", xr.DataArray(2500.0))
    expected = cube["test_rmse"].sel(iteration=2).where(claims.ok_runs(cube))
    xr.testing.assert_allclose(at_budget, expected.drop_vars("iteration"))
