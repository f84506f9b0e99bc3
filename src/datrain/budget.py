"""Equal-budget comparison: every method's test error at matched training cost, from the summary cube.

The budget of a case is ``k * B``, ``B`` the reference method's total cost
(median over seeds, :func:`datrain.claims.reference_budget`) and ``k`` a
multiple (e.g. 0.5, 1, 2). A run is scored at the last recorded step whose
cumulative cost ``n_forward <= k * B`` (:func:`datrain.claims.scores_at_budget`):
a method that finished within the budget keeps its final state, one cut earlier
is scored mid-training (an ESMDA cut after ``i`` of ``Na`` assimilations has
``sum 1/alpha < 1``), and one that records no step within the budget keeps its
initial state. How finely a run records its history bounds how close the cut
gets to the budget; ``cost_used`` reports it.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from datrain.claims import final_scores, reference_budget, scores_at_budget
from datrain.stats import mean_ci


def at_budget(cube: xr.Dataset, reference: str, multiples: Sequence[float]) -> xr.Dataset:
    """``test_rmse``, ``test_r2`` and ``n_forward`` (cost of the step scored) on ``(multiple, case, method, seed)``,
    and ``budget (multiple, case)``; NaN for runs that are not ok."""
    base = reference_budget(cube, reference)
    pieces = []
    for multiple in multiples:
        limit = float(multiple) * base
        scores = xr.Dataset({name: scores_at_budget(cube, name, limit) for name in ("test_rmse", "test_r2", "n_forward")})
        scores["budget"] = limit.reset_coords(drop=True)
        pieces.append(scores.expand_dims(multiple=[float(multiple)]))
    return xr.concat(pieces, dim="multiple")


def budget_frame(cube: xr.Dataset, reference: str, multiples: Sequence[float]) -> pd.DataFrame:
    """Long table ``multiple, case, method, seed, test_rmse`` at the budgets, ok runs only."""
    scores = at_budget(cube, reference, multiples)["test_rmse"]
    return scores.to_dataframe().reset_index()[["multiple", "case", "method", "seed", "test_rmse"]].dropna()


def budget_table(cube: xr.Dataset, reference: str, multiples: Sequence[float], baseline: str,
                 confidence: float = 0.95) -> pd.DataFrame:
    """One row per (case, multiple, method).

    Columns: ``case``, ``multiple``, ``budget`` (forward evaluations), ``method``,
    ``n_ok``; ``test_rmse_mean``/``_ci`` and ``test_r2_mean``/``_ci`` at the budget
    (Student-t half-width at ``confidence``); ``cost_used`` (mean cost of the step
    scored, as a fraction of the budget); ``finished`` (fraction of ok runs whose
    whole training fits in the budget); ``beats_baseline`` (fraction of seeds, paired
    among those where both are ok, in which the method's test RMSE at the budget is
    below ``baseline``'s; NaN for the baseline).
    """
    scores = at_budget(cube, reference, multiples)
    total = final_scores(cube, "n_forward")
    rows = []
    for case in cube["case"].values:
        for multiple in scores["multiple"].values:
            here = scores.sel(case=case, multiple=multiple)
            limit = float(here["budget"])
            for method in cube["method"].values:
                mine = here.sel({"method": method})
                row = {"case": str(case), "multiple": float(multiple), "budget": limit, "method": str(method),
                       "n_ok": int(np.isfinite(mine["test_rmse"].values).sum())}
                for name in ("test_rmse", "test_r2"):
                    iv = mean_ci(mine[name].values, confidence)
                    row[f"{name}_mean"], row[f"{name}_ci"] = iv.mean, iv.high - iv.mean
                totals = total.sel({"case": case, "method": method}).values
                ok = np.isfinite(totals)
                row["cost_used"] = float(np.nanmean(mine["n_forward"].values)) / limit if ok.any() else np.nan
                row["finished"] = float(np.mean(totals[ok] <= limit)) if ok.any() else np.nan
                if method == baseline:
                    row["beats_baseline"] = np.nan
                else:
                    ours, theirs = mine["test_rmse"].values, here["test_rmse"].sel({"method": baseline}).values
                    paired = np.isfinite(ours) & np.isfinite(theirs)
                    row["beats_baseline"] = float(np.mean(ours[paired] < theirs[paired])) if paired.any() else np.nan
                rows.append(row)
    return pd.DataFrame(rows)


def cost_frame(cube: xr.Dataset) -> pd.DataFrame:
    """Long table ``case, method, seed, n_forward, test_rmse`` of every recorded step of the ok runs."""
    history = cube[["n_forward", "test_rmse"]].where(cube["status"] == "ok")
    return history.to_dataframe().reset_index()[["case", "method", "seed", "n_forward", "test_rmse"]].dropna()
