"""The paper's claims, and this project's extension claims, tested on the summary cube.

The cube is an ``xarray.Dataset`` with dims ``(case, method, seed, iteration)``
holding at least ``test_rmse``, ``test_r2``, ``n_forward``, ``step`` and
``param_spread`` per iteration and ``status`` per run ("ok" / "diverged" /
"missing"); the calibration claim also needs ``crps`` and ``coverage (level)``.
Every number in the claims table is computed here from the cube (and from sweep
cubes of the same layout); nothing is typed in by hand.

A comparison of method ``m`` with a baseline ``b`` on a metric is the paired
difference over seeds, ``d_s = score_m(s) - score_b(s)``, with a Student-t
interval (95% by default). Verdict per row: "holds" when the whole interval lies
on the side where ``m`` is better (below 0 when lower is better), "does not hold"
otherwise, "undetermined" with fewer than two paired seeds (e.g. the baseline
diverged). A claim, or a group of settings, holds if every determined row holds,
does not hold if none does, and is "mixed" in between; the ``holds_for`` column
says where it holds.

Settings (column ``setting``, grouped in ``setting_group``):

* ``main``: final scores of the main runs;
* ``budget <k>x <reference>`` (group ``equal budget``): every method stopped at the
  last recorded step whose cumulative cost is within ``k`` times the reference
  method's total cost (median over seeds, per case);
* extra settings, e.g. one per sweep grid point (group ``sweep <name>``, see
  :func:`sweep_settings`).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from datrain.calibration import coverage_error
from datrain.stats import mean_ci

PERFORMANCE_CLAIM = ("The proposed framework (EnKF, ESMDA) obtains better performance than the "
                     "gradient descent method, by RMSE and R^2")
ADAM_CLAIM = ("Extension (not in the paper): EnKF and ESMDA also beat a modern optimiser (Adam), "
              "by RMSE and R^2")
UNCERTAINTY_CLAIM = ("The uncertainty of the parameters shows a reduction along with the "
                     "iterations in ESMDA")
ADAPTIVE_CLAIM = ("Extension (not in the paper): an adaptive ESMDA schedule (data-misfit controller) "
                  "beats the fixed schedule, by RMSE and R^2")
CALIBRATION_CLAIM = ("Extension (not in the paper): EnKF and ESMDA ensembles quantify uncertainty better "
                     "than a deep ensemble of as many Adam-trained networks, by CRPS and interval coverage")

# Short names of the claims for narrow tables.
SHORT = {PERFORMANCE_CLAIM: "paper: EnKF/ESMDA beat GD", ADAM_CLAIM: "extension: EnKF/ESMDA beat Adam",
         UNCERTAINTY_CLAIM: "paper: ESMDA parameter spread shrinks",
         ADAPTIVE_CLAIM: "extension: adaptive ESMDA beats fixed schedule",
         CALIBRATION_CLAIM: "extension: EnKF/ESMDA better calibrated than a deep ensemble"}

# metric name -> (cube variable, True if lower is better)
METRICS = {"test RMSE": ("test_rmse", True), "test R^2": ("test_r2", False)}
VERDICTS = ("holds", "does not hold", "undetermined")
COLUMNS = ("claim", "setting_group", "setting", "case", "comparison", "metric", "difference", "ci_low",
           "ci_high", "n_seeds", "verdict", "note")


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
    A run that finished within the budget keeps its final value; one whose first
    recorded step after the start costs more than the budget keeps its initial value.
    """
    within = cube["n_forward"] <= budget
    return last_finite(cube[variable].where(within)).where(ok_runs(cube))


def reference_budget(cube: xr.Dataset, method: str = "esmda") -> xr.DataArray:
    """Per case, the median over ok seeds of ``method``'s total training cost (forward evaluations)."""
    if method not in cube["method"].values:
        raise ValueError(f"budget reference method={method!r} is not in the cube {list(cube['method'].values)}")
    return final_scores(cube, "n_forward").sel({"method": method}).median("seed")


def budget_label(multiple: float, reference: str) -> str:
    return f"budget {multiple:g}x {reference}"


def paired_difference(scores: xr.DataArray, method: str, baseline: str, confidence: float = 0.95):
    """Per case: ``Interval`` of ``scores[method] - scores[baseline]`` over seeds."""
    diff = scores.sel({"method": method}) - scores.sel({"method": baseline})
    return {str(case): mean_ci(diff.sel(case=case).values, confidence) for case in diff["case"].values}


def verdict_of(interval, lower_is_better: bool = True) -> str:
    """"holds" when the CI excludes 0 on the favourable side; "undetermined" with fewer than 2 seeds."""
    if interval.n < 2:
        return "undetermined"
    favourable = interval.high < 0 if lower_is_better else interval.low > 0
    return "holds" if favourable else "does not hold"


def combine_verdicts(verdicts: Sequence[str]) -> str:
    """One verdict from row verdicts, ignoring undetermined rows."""
    determined = [v for v in verdicts if v != "undetermined"]
    if not determined:
        return "undetermined"
    holding = sum(v == "holds" for v in determined)
    if holding == len(determined):
        return "holds"
    return "does not hold" if holding == 0 else "mixed"


def _row(claim, group, setting, case, comparison, metric, iv, lower_is_better, note=""):
    values = (claim, group, setting, case, comparison, metric, iv.mean, iv.low, iv.high, iv.n,
              verdict_of(iv, lower_is_better), note)
    return dict(zip(COLUMNS, values))


def comparison_rows(settings: Mapping[str, tuple[str, xr.Dataset]], methods, baseline, claim,
                    metrics: Mapping[str, tuple[str, bool]] = METRICS, confidence: float = 0.95):
    """Rows for every (setting, metric, method, case) with ``method`` and ``baseline`` in the setting.

    ``settings[label] = (group, scores)``, ``scores[variable]`` being ``(case, method, seed)``.
    If ``scores.attrs["swept"]`` lists the methods a sweep changed, only comparisons
    involving one of them are made (the others repeat the main setting).
    """
    rows = []
    for setting, (group, scores) in settings.items():
        present = [str(m) for m in scores["method"].values]
        if baseline not in present:
            continue
        swept = scores.attrs.get("swept", present)
        compared = [m for m in methods if m in present and m != baseline and (m in swept or baseline in swept)]
        for metric, (variable, lower_is_better) in metrics.items():
            for method in compared:
                for case, iv in paired_difference(scores[variable], method, baseline, confidence).items():
                    rows.append(_row(claim, group, setting, case, f"{method} - {baseline}", metric, iv,
                                     lower_is_better))
    return rows


def uncertainty_rows(cube: xr.Dataset, method: str = "esmda", confidence: float = 0.95):
    """Per case: the change ``log(spread_final) - log(spread_prior)`` of ESMDA's parameter spread,
    and the fraction of steps at which the spread decreased."""
    spread = cube["param_spread"].sel({"method": method}).where(ok_runs(cube).sel({"method": method}))
    log_change = np.log(last_finite(spread)) - np.log(spread.isel(iteration=0))
    steps = spread.diff("iteration")
    decreasing = (steps < 0).sum("iteration") / np.isfinite(steps).sum("iteration")
    rows = []
    for case in spread["case"].values:
        iv = mean_ci(log_change.sel(case=case).values, confidence)
        note = f"spread fell at {float(decreasing.sel(case=case).mean()):.0%} of steps"
        rows.append(_row(UNCERTAINTY_CLAIM, "main", "main", str(case), f"{method}: final vs prior spread",
                         "log parameter spread ratio", iv, True, note))
    return rows


def adaptive_rows(cube: xr.Dataset, adaptive: str, fixed: str, confidence: float = 0.95):
    """Adaptive vs fixed ESMDA on the final scores, with the mean number of assimilations and cost ratio as note."""
    finals = xr.Dataset({v: final_scores(cube, v) for v, _ in METRICS.values()})
    rows = comparison_rows({"main": ("main", finals)}, [adaptive], fixed, ADAPTIVE_CLAIM, confidence=confidence)
    steps, cost = final_scores(cube, "step"), final_scores(cube, "n_forward")
    for row in rows:
        where = {"case": row["case"]}
        n_adaptive = float(steps.sel(where).sel({"method": adaptive}).mean())
        n_fixed = float(steps.sel(where).sel({"method": fixed}).mean())
        ratio = float(cost.sel(where).sel({"method": adaptive}).mean() / cost.sel(where).sel({"method": fixed}).mean())
        row["note"] = (f"mean assimilations {n_adaptive:.1f} ({adaptive}) vs {n_fixed:.1f} ({fixed}); "
                       f"cost ratio {ratio:.2f}")
    return rows


def calibration_rows(cube: xr.Dataset, da_methods, reference: str, confidence: float = 0.95):
    """DA ensembles vs the deep ensemble ``reference``: paired CRPS and mean coverage error (lower is better)."""
    scores = xr.Dataset({"crps": cube["crps"].where(ok_runs(cube)), "coverage_error": coverage_error(cube)})
    metrics = {"CRPS": ("crps", True), "mean |coverage - nominal|": ("coverage_error", True)}
    return comparison_rows({"main": ("main", scores)}, da_methods, reference, CALIBRATION_CLAIM, metrics,
                           confidence)


def sweep_settings(sweep: xr.Dataset, main: xr.Dataset | None = None) -> dict[str, xr.Dataset]:
    """One setting per grid point of a sweep cube ``(point, case, method, seed, iteration)``.

    The scores are the final test RMSE / R^2 of the sweep's methods; with ``main``
    (for sweeps that change only trainer settings) the other methods' final
    scores from the main cube, on the sweep seeds, complete each setting, so
    that e.g. an ensemble-size sweep of the DA methods is compared with the main
    gradient-descent runs of the same seeds. ``attrs["swept"]`` names the sweep's methods.
    """
    variables = [v for v, _ in METRICS.values()]
    finals = xr.Dataset({v: final_scores(sweep, v) for v in variables})
    settings = {}
    for point in sweep["point"].values:
        scores = finals.sel(point=point).reset_coords(drop=True)
        if main is not None:
            others = [m for m in main["method"].values if m not in scores["method"].values]
            if others:
                seeds = scores["seed"].values
                main_finals = xr.Dataset({v: final_scores(main, v) for v in variables})
                main_finals = main_finals.sel({"method": others, "seed": seeds}).reset_coords(drop=True)
                scores = xr.concat([scores, main_finals], dim="method", join="exact")
        scores.attrs["swept"] = [str(m) for m in sweep["method"].values]
        settings[str(point)] = scores
    return settings


def claims_table(cube: xr.Dataset, da_methods=("enkf", "esmda"), baseline: str = "gd",
                 extra_settings: Mapping[str, Mapping[str, xr.Dataset]] | None = None, *,
                 optimiser: str | None = "adam", budget_reference: str | None = "esmda",
                 budget_multiples: Sequence[float] = (1.0,), adaptive: str | None = None,
                 fixed_schedule: str = "esmda", deep_ensemble: str | None = None,
                 confidence: float = 0.95) -> pd.DataFrame:
    """The detailed claims table: one row per claim x setting x case x comparison x metric.

    ``extra_settings``: ``{group: {label: scores}}`` with ``scores`` a Dataset of
    ``test_rmse``/``test_r2`` on ``(case, method, seed)``. Claims whose methods are
    absent from the cube (or set to None) are left out.
    """
    methods = [str(m) for m in cube["method"].values]
    available = [m for m in da_methods if m in methods]
    finals = xr.Dataset({v: final_scores(cube, v) for v, _ in METRICS.values()})
    settings = {"main": ("main", finals)}
    if budget_reference is not None and budget_reference in methods:
        budget = reference_budget(cube, budget_reference)
        for multiple in budget_multiples:
            scores = xr.Dataset({v: scores_at_budget(cube, v, multiple * budget) for v, _ in METRICS.values()})
            settings[budget_label(multiple, budget_reference)] = ("equal budget", scores)
    for group, by_label in (extra_settings or {}).items():
        settings.update({f"{group}: {label}": (group, scores) for label, scores in by_label.items()})
    rows = comparison_rows(settings, available, baseline, PERFORMANCE_CLAIM, confidence=confidence)
    if optimiser is not None and optimiser in methods:
        rows += comparison_rows(settings, available, optimiser, ADAM_CLAIM, confidence=confidence)
    if "esmda" in methods:
        rows += uncertainty_rows(cube, confidence=confidence)
    if adaptive is not None and adaptive in methods and fixed_schedule in methods:
        rows += adaptive_rows(cube, adaptive, fixed_schedule, confidence)
    if deep_ensemble is not None and deep_ensemble in methods:
        rows += calibration_rows(cube, available, deep_ensemble, confidence)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _where(group: pd.DataFrame) -> str:
    """Where the rows of one setting group hold: the rows (``sine: esmda - gd (test RMSE)``) for a
    single setting, else the settings with their counts (``n_members=50 (4 of 8)``)."""
    held = group[group["verdict"] == "holds"]
    if group["setting"].nunique() == 1:
        return "; ".join(f"{r.case}: {r.comparison} ({r.metric})" for r in held.itertuples())
    parts = []
    for setting, rows in group.groupby("setting", sort=False):
        determined = rows[rows["verdict"] != "undetermined"]
        k = int((determined["verdict"] == "holds").sum())
        if k:
            label = setting.split(": ", 1)[1] if setting.startswith(f"{rows['setting_group'].iloc[0]}: ") else setting
            parts.append(f"{label} ({k} of {len(determined)})")
    return "; ".join(parts)


def claims_by_group(detail: pd.DataFrame) -> pd.DataFrame:
    """One row per (claim, setting group): verdict, ``holds_in`` ("k of n" determined rows) and ``holds_for``."""
    out = []
    for (claim, group_name), group in detail.groupby(["claim", "setting_group"], sort=False):
        determined = group[group["verdict"] != "undetermined"]
        verdict = combine_verdicts(list(group["verdict"]))
        out.append({"claim": claim, "setting_group": group_name, "verdict": verdict,
                    "holds_in": f"{int((determined['verdict'] == 'holds').sum())} of {len(determined)}",
                    "undetermined": int(len(group) - len(determined)),
                    "holds_for": "all" if verdict == "holds" else _where(group)})
    return pd.DataFrame(out)


def claims_summary(detail: pd.DataFrame) -> pd.DataFrame:
    """One row per claim: the metrics, the overall verdict, ``holds_in`` ("k of n" determined rows),
    ``holds_for`` (setting groups where some row holds, with their counts) and ``settings_tested``."""
    by_group = claims_by_group(detail)
    out = []
    for claim, group in detail.groupby("claim", sort=False):
        determined = group[group["verdict"] != "undetermined"]
        verdict = combine_verdicts(list(group["verdict"]))
        groups = by_group[by_group["claim"] == claim]
        holding = [f"{g.setting_group} ({g.holds_in})" for g in groups.itertuples()
                   if not g.holds_in.startswith("0 of")]
        out.append({"claim": claim, "metrics": ", ".join(dict.fromkeys(group["metric"])), "verdict": verdict,
                    "holds_in": f"{int((determined['verdict'] == 'holds').sum())} of {len(determined)}",
                    "holds_for": "all" if verdict == "holds" else "; ".join(holding),
                    "settings_tested": int(group["setting"].nunique())})
    return pd.DataFrame(out)
