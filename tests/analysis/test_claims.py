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
    """Cube whose test RMSE decays to ``final_rmse[method]`` (+ small paired noise); R^2 = 1 - RMSE.
    Its methods are the keys of ``final_rmse``."""
    rng = np.random.default_rng(seed)
    methods = list(final_rmse)
    shape = (len(CASES), len(methods), N_SEEDS, N_ITER)
    decay = np.linspace(2.0, 1.0, N_ITER)
    rmse = np.stack([final_rmse[m] * decay * np.ones((len(CASES), N_SEEDS, 1)) for m in methods], axis=1)
    rmse = rmse + 0.002 * rng.standard_normal(shape)
    cost = np.broadcast_to(np.arange(N_ITER) * 1000.0, shape).copy()
    spread = np.broadcast_to(np.exp(-np.arange(N_ITER)), shape).copy()
    dims = ("case", "method", "seed", "iteration")
    return xr.Dataset(
        {"test_rmse": (dims, rmse), "test_r2": (dims, 1 - rmse), "n_forward": (dims, cost),
         "param_spread": (dims, spread),
         "status": (dims[:3], np.full(shape[:3], "ok", dtype=object))},
        coords={"case": CASES, "method": methods, "seed": np.arange(N_SEEDS), "iteration": np.arange(N_ITER)},
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
    assert overall(cube, claims.PERFORMANCE_CLAIM) == "mixed"
    groups = claims.claims_by_group(claims.claims_table(cube)).set_index(["claim", "setting_group"])
    where = groups.loc[(claims.PERFORMANCE_CLAIM, "main"), "holds_for"]
    assert "esmda - gd" in where and "enkf - gd" not in where
    assert groups.loc[(claims.PERFORMANCE_CLAIM, "main"), "holds_in"] == "4 of 8"  # 2 cases x 2 metrics


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


def test_budget_settings_score_every_method_at_multiples_of_the_reference_cost():
    """ESMDA is ten times cheaper per step: at its budget GD is still at its initial state and loses,
    while on final scores GD wins."""
    cube = synthetic_cube({"gd": 0.15, "adam": 0.05, "enkf": 0.2, "esmda": 0.2})  # initial RMSE = 2 x final
    cube["n_forward"].loc[{"method": "esmda"}] = cube["n_forward"].sel({"method": "esmda"}) / 10
    detail = claims.claims_table(cube, budget_multiples=(1.0, 2.0))
    perf = detail[(detail["claim"] == claims.PERFORMANCE_CLAIM) & (detail["comparison"] == "esmda - gd")]
    verdicts = perf.groupby("setting")["verdict"].unique().map(list).to_dict()
    assert verdicts == {"main": ["does not hold"], "budget 1x esmda": ["holds"], "budget 2x esmda": ["holds"]}
    budget = claims.reference_budget(cube, "esmda")
    np.testing.assert_allclose(budget.values, (N_ITER - 1) * 100.0)
    at_budget = claims.scores_at_budget(cube, "test_rmse", budget).sel({"method": "gd"})
    xr.testing.assert_allclose(at_budget, cube["test_rmse"].sel({"method": "gd"}).isel(iteration=0, drop=True))
    with pytest.raises(ValueError, match="budget reference method='nope'"):
        claims.reference_budget(cube, "nope")


def test_undetermined_when_the_baseline_has_no_ok_seed():
    cube = synthetic_cube({"gd": 0.3, "adam": 0.05, "enkf": 0.1, "esmda": 0.1})
    cube["status"].loc[{"case": "sine", "method": "gd"}] = "diverged"
    detail = claims.claims_table(cube)
    sine = detail.query("claim == @claims.PERFORMANCE_CLAIM and case == 'sine' and setting == 'main'")
    assert (sine["verdict"] == "undetermined").all() and (sine["n_seeds"] == 0).all()
    assert overall(cube, claims.PERFORMANCE_CLAIM) == "holds"  # decided by the determined rows only
    groups = claims.claims_by_group(detail).set_index(["claim", "setting_group"])
    assert groups.loc[(claims.PERFORMANCE_CLAIM, "main"), "undetermined"] == 4


def sweep_cube(point_rmse: dict, methods=("enkf", "esmda"), seeds=(0, 1, 2, 3)):
    """A sweep cube (point, case, method, seed, iteration) with final test RMSE ``point_rmse[point]``."""
    pieces = []
    for point, rmse in point_rmse.items():
        base = synthetic_cube({m: rmse for m in METHODS}, seed=len(pieces))
        pieces.append(base.sel({"method": list(methods), "seed": list(seeds)}).expand_dims(point=[point]))
    return xr.concat(pieces, dim="point")


def test_sweep_settings_complete_trainer_only_sweeps_with_the_main_runs():
    main = synthetic_cube({"gd": 0.1, "adam": 0.05, "enkf": 0.3, "esmda": 0.3})
    sweep = sweep_cube({"n_members=10": 0.2, "n_members=200": 0.05})
    settings = claims.sweep_settings(sweep, main)
    assert list(settings) == ["n_members=10", "n_members=200"]
    scores = settings["n_members=200"]
    assert set(scores["method"].values) == set(METHODS) and list(scores["seed"].values) == [0, 1, 2, 3]
    xr.testing.assert_equal(scores["test_rmse"].sel({"method": "gd"}),
                            claims.final_scores(main, "test_rmse").sel({"method": "gd", "seed": [0, 1, 2, 3]}))
    detail = claims.claims_table(main, extra_settings={"sweep ensemble_size": settings})
    groups = claims.claims_by_group(detail).set_index(["claim", "setting_group"])
    row = groups.loc[(claims.PERFORMANCE_CLAIM, "sweep ensemble_size")]
    assert row["verdict"] == "mixed" and row["holds_in"] == "8 of 16"
    assert row["holds_for"] == "n_members=200 (8 of 8)"
    assert groups.loc[(claims.PERFORMANCE_CLAIM, "main"), "verdict"] == "does not hold"
    summary = claims.claims_summary(detail).set_index("claim")
    assert summary.loc[claims.PERFORMANCE_CLAIM, "verdict"] == "mixed"
    assert summary.loc[claims.PERFORMANCE_CLAIM, "holds_for"] == "sweep ensemble_size (8 of 16)"
    assert claims.sweep_settings(sweep)["n_members=10"]["method"].values.tolist() == ["enkf", "esmda"]
    # adam is compared with the swept methods only, not with itself from the main runs
    adam_rows = detail[(detail["claim"] == claims.ADAM_CLAIM) & (detail["setting_group"] == "sweep ensemble_size")]
    assert set(adam_rows["comparison"]) == {"enkf - adam", "esmda - adam"}


def test_sweep_settings_compare_only_pairs_involving_a_swept_method():
    main = synthetic_cube({"gd": 0.1, "adam": 0.05, "enkf": 0.3, "esmda": 0.3})
    sweep = sweep_cube({"learning_rate=0.3": 0.5}, methods=("gd",))
    detail = claims.claims_table(main, extra_settings={"sweep lr": claims.sweep_settings(sweep, main)})
    rows = detail[detail["setting_group"] == "sweep lr"]
    assert set(rows["comparison"]) == {"enkf - gd", "esmda - gd"}  # gd swept; adam vs DA unchanged: left out
    assert (rows[rows["claim"] == claims.PERFORMANCE_CLAIM]["verdict"] == "holds").all()


def with_uncertainty(cube, crps: dict, coverage: dict, steps: dict):
    """Add final CRPS, coverage ``coverage[m] * level`` at four levels and ``steps[m]`` trainer steps."""
    methods = list(cube["method"].values)
    levels = np.array([0.5, 0.8, 0.9, 0.95])
    rng = np.random.default_rng(1)
    shape = (cube.sizes["case"], len(methods), cube.sizes["seed"])
    per_method = xr.DataArray([crps[m] for m in methods], dims="method", coords={"method": methods})
    cube["crps"] = per_method + xr.DataArray(0.001 * rng.standard_normal(shape), dims=("case", "method", "seed"))
    cube = cube.assign_coords(level=levels)
    factor = xr.DataArray([coverage[m] for m in methods], dims="method", coords={"method": methods})
    noise = xr.DataArray(0.001 * rng.standard_normal(shape + (4,)), dims=("case", "method", "seed", "level"))
    cube["coverage"] = factor * cube["level"] + noise
    total = xr.DataArray([float(steps[m]) for m in methods], dims="method", coords={"method": methods})
    cube["step"] = total * xr.DataArray(np.arange(N_ITER) / (N_ITER - 1), dims="iteration")
    return cube


def test_adaptive_and_calibration_claims_flip():
    rmse = {"gd": 0.3, "adam": 0.05, "enkf": 0.1, "esmda": 0.1, "esmda_adaptive": 0.05, "deep_ensemble": 0.05}
    good = with_uncertainty(synthetic_cube(rmse), crps={m: 0.1 for m in rmse} | {"deep_ensemble": 0.3},
                            coverage={m: 1.0 for m in rmse} | {"deep_ensemble": 0.3},
                            steps={m: 8 for m in rmse} | {"esmda_adaptive": 20})
    options = {"adaptive": "esmda_adaptive", "deep_ensemble": "deep_ensemble"}
    detail = claims.claims_table(good, **options)
    summary = claims.claims_summary(detail).set_index("claim")
    assert summary.loc[claims.ADAPTIVE_CLAIM, "verdict"] == "holds"
    assert summary.loc[claims.CALIBRATION_CLAIM, "verdict"] == "holds"
    note = detail[detail["claim"] == claims.ADAPTIVE_CLAIM]["note"].iloc[0]
    assert note.startswith("mean assimilations 20.0 (esmda_adaptive) vs 8.0 (esmda)")

    bad = with_uncertainty(synthetic_cube(rmse | {"esmda_adaptive": 0.2}),
                           crps={m: 0.3 for m in rmse} | {"deep_ensemble": 0.1},
                           coverage={m: 0.3 for m in rmse} | {"deep_ensemble": 1.0}, steps={m: 8 for m in rmse})
    summary = claims.claims_summary(claims.claims_table(bad, **options)).set_index("claim")
    assert summary.loc[claims.ADAPTIVE_CLAIM, "verdict"] == "does not hold"
    assert summary.loc[claims.CALIBRATION_CLAIM, "verdict"] == "does not hold"
    assert claims.CALIBRATION_CLAIM not in set(claims.claims_table(bad)["claim"])  # left out unless named
