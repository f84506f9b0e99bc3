"""Calibration of the final ensembles, from the summary cube only.

The run files store, per run, the empirical coverage of the central ensemble
intervals on the noise-free test grid (``coverage (case, method, seed, level)``)
and the mean ensemble CRPS (``crps``). Only ensembles (``n_members > 1``) whose
run is ok enter; a single network has no interval.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from datrain.stats import mean_ci


def ensemble_methods(cube: xr.Dataset) -> list[str]:
    """Methods with more than one member in some ok run, in cube order."""
    members = cube["n_members"].where(cube["status"] == "ok")
    return [str(m) for m in cube["method"].values if float(members.sel({"method": m}).max()) > 1]


def coverage_error(cube: xr.Dataset) -> xr.DataArray:
    """``(case, method, seed)``: mean over the nominal levels ``c`` of ``|coverage(c) - c|``; NaN if not ok."""
    gap = abs(cube["coverage"] - cube["level"])
    return gap.mean("level", skipna=False).where(cube["status"] == "ok")


def coverage_frame(cube: xr.Dataset) -> pd.DataFrame:
    """Long table ``case, method, seed, level, coverage`` of the ok ensemble runs."""
    methods = ensemble_methods(cube)
    coverage = cube["coverage"].where(cube["status"] == "ok").sel({"method": methods})
    return coverage.to_dataframe().reset_index()[["case", "method", "seed", "level", "coverage"]].dropna()


def calibration_table(cube: xr.Dataset, confidence: float = 0.95) -> pd.DataFrame:
    """One row per (case, ensemble method).

    Columns: ``n_members``, ``n_ok``; ``coverage_<c>_mean`` / ``_ci`` at each nominal
    level ``c`` (percent in the name, e.g. ``coverage_90``); ``coverage_error_mean`` /
    ``_ci`` (:func:`coverage_error`); ``crps_mean`` / ``_ci``; ``test_rmse_mean`` for
    reference. ``_ci`` is the half-width of the Student-t interval over seeds.
    """
    ok = cube["status"] == "ok"
    error = coverage_error(cube)
    rows = []
    for case in cube["case"].values:
        for method in ensemble_methods(cube):
            where = {"case": case, "method": method}
            members = cube["n_members"].where(ok).sel(where).values
            row = {"case": str(case), "method": method, "n_members": float(np.nanmax(members)),
                   "n_ok": int(ok.sel(where).sum())}
            for level in cube["level"].values:
                iv = mean_ci(cube["coverage"].where(ok).sel(where).sel(level=level).values, confidence)
                name = f"coverage_{round(100 * float(level)):d}"
                row[f"{name}_mean"], row[f"{name}_ci"] = iv.mean, iv.high - iv.mean
            for name, values in (("coverage_error", error.sel(where)),
                                 ("crps", cube["crps"].where(ok).sel(where)),
                                 ("test_rmse", cube["final_test_rmse"].where(ok).sel(where))):
                iv = mean_ci(values.values, confidence)
                row[f"{name}_mean"], row[f"{name}_ci"] = iv.mean, iv.high - iv.mean
            rows.append(row)
    return pd.DataFrame(rows)
