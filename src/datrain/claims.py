"""The paper's claims, tested on the summary cube.

The cube is an ``xarray.Dataset`` with dims ``(case, method, seed, iteration)``
holding at least ``test_rmse``, ``test_r2``, ``n_forward`` and ``param_spread``
per iteration and ``status`` per run ("ok" / "diverged"). Every number in the
claims table is computed here from the cube; nothing is typed in by hand.

A comparison of method ``m`` with a baseline ``b`` on a metric is the paired
difference over seeds, ``d_s = score_m(s) - score_b(s)``, with a 95% t-interval.
Verdict per setting: "holds" when the whole interval lies on the side where
``m`` is better (below 0 for RMSE, above 0 for R^2), "does not hold" otherwise. A claim
over several settings holds if every setting holds, does not hold if none does,
and is "mixed" (naming the settings where it holds) in between.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from datrain.stats import mean_ci

PERFORMANCE_CLAIM = ("The proposed framework (EnKF, ESMDA) obtains better performance than the "
                     "gradient descent method, by RMSE and R^2")
ADAM_CLAIM = ("Extension (not in the paper): EnKF and ESMDA also beat a modern optimiser (Adam), "
              "by RMSE and R^2")
UNCERTAINTY_CLAIM = ("The uncertainty of the parameters shows a reduction along with the "
                     "iterations in ESMDA")

# metric name -> (cube variable, True if lower is better)
METRICS = {"test RMSE": ("test_rmse", True), "test R^2": ("test_r2", False)}


def last_finite(values: xr.DataArray, dim: str = "iteration") -> xr.DataArray:
    """The last finite entry along ``dim`` (NaN where there is none)."""
    def pick(array):  # array (..., n_dim) -> (...)
        finite = np.isfinite(array)
        index = np.where(finite, np.arange(array.shape[-1]), -1).max(axis=-1)
        picked = np.take_along_axis(array, np.maximum(index, 0)[..., None], axis=-1)[..., 0]
        return np.where(index >= 0, picked, np.nan)

    return xr.apply_ufunc(pick, values.astype(float), input_core_dims=[[dim]])


def ok_runs(cube: xr.Dataset) -> xr.DataArray:
    """Boolean ``(case, method, seed)``: the run exists and did not diverge."""
    return cube["status"] == "ok"


def final_scores(cube: xr.Dataset, variable: str) -> xr.DataArray:
    """Final value of ``variable`` per run, NaN for missing or diverged runs."""
    return last_finite(cube[variable]).where(ok_runs(cube))


def scores_at_budget(cube: xr.Dataset, variable: str, budget: xr.DataArray) -> xr.DataArray:
    """``variable`` at the last recorded iteration whose cumulative cost ``n_forward <= budget``.

    ``budget`` broadcasts against ``(case, method, seed)`` (typically per case).
    NaN where a run never reached a recorded step within the budget.
    """
    within = cube["n_forward"] <= budget
    return last_finite(cube[variable].where(within)).where(ok_runs(cube))


def esmda_budget(cube: xr.Dataset, method: str = "esmda") -> xr.DataArray:
    """Per case, the median over seeds of ``method``'s total training cost."""
    return last_finite(cube["n_forward"].sel({"method": method})).median("seed")


def paired_difference(scores: xr.DataArray, method: str, baseline: str):
    """Per case: ``Interval`` of ``scores[method] - scores[baseline]`` over seeds."""
    diff = scores.sel({"method": method}) - scores.sel({"method": baseline})
    return {str(case): mean_ci(diff.sel(case=case).values) for case in diff["case"].values}


def verdict_of(interval, lower_is_better: bool = True) -> str:
    """"holds" when the CI excludes 0 on the favourable side."""
    favourable = interval.high < 0 if lower_is_better else interval.low > 0
    return "holds" if interval.n >= 2 and favourable else "does not hold"


def combine_verdicts(verdicts: dict[str, str]) -> str:
    """One verdict for a claim from ``{setting: verdict}``."""
    holding = [setting for setting, v in verdicts.items() if v == "holds"]
    if len(holding) == len(verdicts):
        return "holds"
    if not holding:
        return "does not hold"
    return "mixed: holds for " + ", ".join(holding)


def performance_rows(scores_by_setting: dict[str, xr.Dataset], methods, baseline,
                     claim: str = PERFORMANCE_CLAIM):
    """Rows for every (setting, case, method, metric); ``scores_by_setting[setting][variable]``
    gives ``(case, method, seed)`` scores."""
    rows = []
    for setting, scores in scores_by_setting.items():
        for metric, (variable, lower_is_better) in METRICS.items():
            for method in methods:
                for case, iv in paired_difference(scores[variable], method, baseline).items():
                    rows.append({
                        "claim": claim, "setting": setting, "case": case,
                        "comparison": f"{method} - {baseline}", "metric": metric,
                        "difference": iv.mean, "ci_low": iv.low, "ci_high": iv.high,
                        "n_seeds": iv.n, "verdict": verdict_of(iv, lower_is_better),
                    })
    return rows


def uncertainty_rows(cube: xr.Dataset, method: str = "esmda"):
    """Per case: the change ``log(spread_final) - log(spread_prior)`` of ESMDA's parameter spread,
    and the fraction of steps at which the spread decreased."""
    spread = cube["param_spread"].sel({"method": method}).where(ok_runs(cube).sel({"method": method}))
    log_change = np.log(last_finite(spread)) - np.log(spread.isel(iteration=0))
    steps = spread.diff("iteration")
    decreasing = (steps < 0).sum("iteration") / np.isfinite(steps).sum("iteration")
    rows = []
    for case in spread["case"].values:
        iv = mean_ci(log_change.sel(case=case).values)
        rows.append({
            "claim": UNCERTAINTY_CLAIM, "setting": "main", "case": str(case),
            "comparison": f"{method}: final vs prior spread", "metric": "log parameter spread ratio",
            "difference": iv.mean, "ci_low": iv.low, "ci_high": iv.high, "n_seeds": iv.n,
            "verdict": verdict_of(iv),
            "note": f"spread fell at {float(decreasing.sel(case=case).mean()):.0%} of steps",
        })
    return rows


def claims_table(cube: xr.Dataset, da_methods=("enkf", "esmda"), baseline: str = "gd",
                 extra_settings: dict | None = None) -> pd.DataFrame:
    """The detailed claims table: one row per setting x case x comparison x metric.

    Settings: ``main`` (final scores), ``equal budget`` (every method stopped at
    ESMDA's cost), plus ``extra_settings`` ``{name: scores Dataset}``; when ``adam``
    is in the cube, DA against Adam as a separate (extension) claim.
    """
    available = [m for m in da_methods if m in cube["method"].values]
    finals = xr.Dataset({v: final_scores(cube, v) for v, _ in METRICS.values()})
    settings = {"main": finals}
    if "esmda" in cube["method"].values:
        budget = esmda_budget(cube)
        settings["equal budget"] = xr.Dataset(
            {v: scores_at_budget(cube, v, budget) for v, _ in METRICS.values()})
    settings.update(extra_settings or {})
    rows = performance_rows(settings, available, baseline)
    if "adam" in cube["method"].values:
        rows += performance_rows({"main": finals}, available, "adam", ADAM_CLAIM)
    if "esmda" in cube["method"].values:
        rows += uncertainty_rows(cube)
    return pd.DataFrame(rows)


def claims_summary(detail: pd.DataFrame) -> pd.DataFrame:
    """One row per claim: its overall verdict over every (setting, case, comparison, metric)."""
    out = []
    for claim, group in detail.groupby("claim", sort=False):
        labels = group["setting"] + " / " + group["case"] + " / " + group["comparison"] + " / " + group["metric"]
        out.append({"claim": claim, "verdict": combine_verdicts(dict(zip(labels, group["verdict"]))),
                    "settings_tested": len(group)})
    return pd.DataFrame(out)
