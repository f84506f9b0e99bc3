"""Comparison statistics computed from the summary cube only (see :mod:`datrain.io`).

Only runs with ``status == "ok"`` enter a mean; diverged and missing runs are
counted and listed, never averaged in as numbers.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from datrain.stats import mean_ci

# Final-state metrics of the tables: cube variable -> label.
TABLE_METRICS = {
    "final_train_rmse": "train RMSE",
    "final_test_rmse": "test RMSE",
    "final_train_r2": "train R²",
    "final_test_r2": "test R²",
}


def ok_only(cube: xr.Dataset, name: str) -> xr.DataArray:
    """``cube[name]`` with every run whose status is not "ok" set to NaN."""
    return cube[name].where(cube["status"] == "ok")


def _seeds_with(cube: xr.Dataset, case: str, method: str, status: str) -> list[int]:
    flags = cube["status"].sel({"case": case, "method": method}) == status
    return [int(seed) for seed in cube["seed"].values[flags.values]]


def comparison_table(cube: xr.Dataset, baseline: str, confidence: float = 0.95) -> pd.DataFrame:
    """One row per (case, method), in cube order.

    (Selections use dicts: ``method`` is also a keyword of ``DataArray.sel``.)

    Columns: ``case, method, trainer, n_members, members_per_param, n_seeds, n_ok,
    n_diverged, n_missing, diverged_seeds, missing_seeds``; for each metric of
    :data:`TABLE_METRICS` (``final_`` prefix dropped) ``<metric>_mean`` and
    ``<metric>_ci`` (half-width of the Student-t interval at ``confidence``,
    :func:`datrain.stats.mean_ci`; NaN for fewer than 2 ok seeds); and
    ``beats_baseline`` -- the fraction of seeds, paired by seed among those where
    both runs are ok, in which the method's final test RMSE is below the
    ``baseline`` method's -- with ``n_pairs`` (NaN / 0 for the baseline row).
    """
    if baseline not in cube["method"].values:
        raise ValueError(f"baseline={baseline!r} is not a method of the cube {list(cube['method'].values)}")
    test_rmse = ok_only(cube, "final_test_rmse")
    rows = []
    for case in cube["case"].values:
        for method in cube["method"].values:
            where = {"case": case, "method": method}
            status = cube["status"].sel(where)
            ok = status == "ok"
            row = {
                "case": str(case), "method": str(method),
                "trainer": _first(cube["trainer"].sel(where).values[ok.values], "unknown"),
                "n_members": _first(cube["n_members"].sel(where).values[ok.values], np.nan),
                "members_per_param": _first(cube["members_per_param"].sel(where).values[ok.values], np.nan),
                "n_seeds": int(status.size), "n_ok": int(ok.sum()),
                "n_diverged": int((status == "diverged").sum()), "n_missing": int((status == "missing").sum()),
                "diverged_seeds": ";".join(map(str, _seeds_with(cube, case, method, "diverged"))),
                "missing_seeds": ";".join(map(str, _seeds_with(cube, case, method, "missing"))),
            }
            for name in TABLE_METRICS:
                interval = mean_ci(ok_only(cube, name).sel(where).values, confidence)
                short = name.removeprefix("final_")
                row[f"{short}_mean"], row[f"{short}_ci"] = interval.mean, interval.high - interval.mean
            if method == baseline:
                row["beats_baseline"], row["n_pairs"] = np.nan, 0
            else:
                ours, theirs = test_rmse.sel(where).values, test_rmse.sel({"case": case, "method": baseline}).values
                paired = np.isfinite(ours) & np.isfinite(theirs)
                n_pairs = int(paired.sum())
                row["n_pairs"] = n_pairs
                row["beats_baseline"] = float(np.mean(ours[paired] < theirs[paired])) if n_pairs else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def _first(values, default):
    values = list(values)
    if not values:
        return default
    value = values[0]
    return value.item() if hasattr(value, "item") else value


def run_notes(cube: xr.Dataset) -> list[str]:
    """Human-readable lines for every diverged or missing run, e.g. ``diverged: sine/gd/seed3 at step 120``."""
    notes = []
    for case in cube["case"].values:
        for method in cube["method"].values:
            for seed in cube["seed"].values:
                where = {"case": case, "method": method, "seed": seed}
                status = str(cube["status"].sel(where).item())
                if status == "diverged":
                    step = int(cube["diverged_at"].sel(where).item())
                    notes.append(f"diverged: {case}/{method}/seed{seed} at step {step}")
                elif status == "missing":
                    notes.append(f"missing: {case}/{method}/seed{seed} (no run file)")
    return notes
