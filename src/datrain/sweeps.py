"""Sensitivity sweeps: grids of settings around the main configuration.

A sweep is configured (``config["sweeps"]``) as::

    sweeps:
      seeds: [0, 1, 2]                 # a subset of config["seeds"]: sweep runs pair with main runs
      record_every: 100                # history interval of gd / adam / enkf in sweep runs
      geometric_first_to_last: 10      # alpha_1 / alpha_Na of the geometric ESMDA schedule
      grids:
        ensemble_size:
          methods: [enkf, esmda]       # methods of config["methods"] whose runs are repeated
          parameters: {n_members: [10, 25, 50, 100, 200]}
          references: []               # main-run methods shown beside the sweep (figure, table)

Each grid is the Cartesian product of its ``parameters`` (in the order given);
a grid point is labelled ``name=value[,name=value...]`` (:func:`point_label`).
One sweep job trains one (sweep, point, case, method) over the sweep seeds with
exactly the run of :func:`datrain.experiment.resolve_run`, modified by
:func:`apply_point`.

Parameters (:data:`PARAMETERS`) and what they change:

===================  =========================  =====================================================
parameter            applies to trainers         changes
===================  =========================  =====================================================
``n_members``        all                        ensemble size N (or networks of a deep ensemble)
``n_assimilations``  esmda                      ``alphas = Na`` (constant schedule ``alpha_i = Na``)
``schedule``         esmda                      ``constant`` or ``geometric`` (needs ``n_assimilations``):
                                                ``geometric_alphas(Na, r)``, ``r = R**(1/(Na-1))``,
                                                ``R = alpha_1 / alpha_Na`` = ``geometric_first_to_last``
``batch_size``       enkf, gd, adam             rows per update / gradient step
``epochs``           enkf, gd, adam             passes over the training data
``learning_rate``    gd, adam                   step size
``noise_std``        all                        std of the data noise; DA methods also get
                                                ``obs_std = noise_std`` (they know the noise level)
``hidden_width``     all                        width of every hidden layer
===================  =========================  =====================================================
"""
from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from datrain.claims import last_finite
from datrain.experiment import DA_TRAINERS, TRAINERS, resolve_run
from datrain.schedules import geometric_alphas
from datrain.stats import mean_ci

SCHEDULES = ("constant", "geometric")


@dataclass(frozen=True)
class Parameter:
    """A sweepable setting: the trainers it applies to and the part of a run it changes."""
    trainers: tuple[str, ...]
    changes: str  # "trainer", "dataset" or "model"


PARAMETERS = {
    "n_members": Parameter(tuple(TRAINERS), "trainer"),
    "n_assimilations": Parameter(("esmda",), "trainer"),
    "schedule": Parameter(("esmda",), "trainer"),
    "batch_size": Parameter(("enkf", "gd", "adam"), "trainer"),
    "epochs": Parameter(("enkf", "gd", "adam"), "trainer"),
    "learning_rate": Parameter(("gd", "adam"), "trainer"),
    "noise_std": Parameter(tuple(TRAINERS), "dataset"),
    "hidden_width": Parameter(tuple(TRAINERS), "model"),
}
# Coordinates of a sweep cube holding the grid values are named "swept_<parameter>" (on dim point),
# so that e.g. the swept n_members does not clash with the runs' n_members variable.
PREFIX = "swept_"
# Trainer settings that set the history interval (sweeps record more coarsely than main runs).
RECORDING_TRAINERS = ("gd", "adam", "enkf")


def format_value(value) -> str:
    """A grid value as it appears in a point label: ``10``, ``0.03``, ``geometric``."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"sweep value {value!r}: booleans are not sweep values")
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


def point_label(values: Mapping) -> str:
    """``{"batch_size": 10, "epochs": 4}`` -> ``"batch_size=10,epochs=4"`` (a path component)."""
    return ",".join(f"{name}={format_value(value)}" for name, value in values.items())


def grid_points(grid: Mapping) -> list[tuple[str, dict]]:
    """``[(label, {parameter: value})]``: the Cartesian product of ``grid["parameters"]``, first parameter slowest."""
    parameters = grid["parameters"]
    names = list(parameters)
    points = [dict(zip(names, combo)) for combo in itertools.product(*(parameters[n] for n in names))]
    return [(point_label(values), values) for values in points]


def trainer_only(grid: Mapping) -> bool:
    """True if the grid changes only trainer settings (so the other methods' main runs stay valid)."""
    return all(PARAMETERS[name].changes == "trainer" for name in grid["parameters"])


def changes_data(grid: Mapping) -> bool:
    """True if the grid changes the data set (its points need their own data files)."""
    return any(PARAMETERS[name].changes == "dataset" for name in grid["parameters"])


def geometric_schedule(n_assimilations: int, first_to_last: float) -> list[float]:
    """Decreasing geometric ``alphas (Na,)`` with ``alpha_1 / alpha_Na = first_to_last`` and ``sum 1/alpha = 1``.

    Uses :func:`datrain.schedules.geometric_alphas` with the per-step ratio
    ``first_to_last ** (1 / (Na - 1))``; ``Na = 1`` gives ``[1.0]``.
    """
    if n_assimilations == 1:
        return [1.0]
    ratio = float(first_to_last) ** (1.0 / (n_assimilations - 1))
    return [float(a) for a in geometric_alphas(n_assimilations, ratio)]


def apply_point(run: Mapping, values: Mapping, options: Mapping) -> dict:
    """A copy of the resolved ``run`` (:func:`datrain.experiment.resolve_run`) with the grid point ``values``.

    ``options``: ``record_every`` (set on gd / adam / enkf trainers) and
    ``geometric_first_to_last``. Raises ``ValueError`` naming the parameter when it
    does not apply to the run's trainer or its value is out of range.
    """
    run = copy.deepcopy(dict(run))
    trainer, model, dataset = run["trainer"], run["model"], run["dataset"]
    name = trainer["trainer"]
    for parameter in values:
        if parameter not in PARAMETERS:
            raise ValueError(f"sweep parameter {parameter!r} is not one of {sorted(PARAMETERS)}")
        if name not in PARAMETERS[parameter].trainers:
            raise ValueError(f"sweep parameter {parameter!r} does not apply to method {run['method']!r} "
                             f"(trainer {name!r}); it applies to {list(PARAMETERS[parameter].trainers)}")
    if name in RECORDING_TRAINERS:
        trainer["record_every"] = int(options["record_every"])
    if "n_members" in values:
        minimum = 2 if name in DA_TRAINERS else 1
        if int(values["n_members"]) < minimum:
            raise ValueError(f"sweep n_members={values['n_members']!r} must be >= {minimum} for trainer {name!r}")
        trainer["n_members"] = int(values["n_members"])
    if "schedule" in values or "n_assimilations" in values:
        if "n_assimilations" not in values:
            raise ValueError(f"sweep parameter 'schedule'={values['schedule']!r} needs 'n_assimilations' "
                             "in the same grid")
        n_assimilations, schedule = int(values["n_assimilations"]), values.get("schedule", "constant")
        if schedule not in SCHEDULES:
            raise ValueError(f"sweep schedule={schedule!r} is not one of {SCHEDULES}")
        trainer["alphas"] = (n_assimilations if schedule == "constant"
                             else geometric_schedule(n_assimilations, options["geometric_first_to_last"]))
    for key in ("batch_size", "epochs", "learning_rate"):
        if key in values:
            trainer[key] = values[key]
    if "noise_std" in values:
        dataset["noise_std"] = float(values["noise_std"])
        if name in DA_TRAINERS:
            trainer["obs_std"] = float(values["noise_std"])
    if "hidden_width" in values:
        model["hidden"] = [int(values["hidden_width"])] * len(model["hidden"])
    return run


def point_values(config: Mapping, sweep: str, point: str) -> dict:
    """The parameter values of grid point ``point`` of ``sweep``; ValueError naming an unknown one."""
    grids = config["sweeps"]["grids"]
    if sweep not in grids:
        raise ValueError(f"sweep={sweep!r} is not in config['sweeps']['grids'] {sorted(grids)}")
    points = dict(grid_points(grids[sweep]))
    if point not in points:
        raise ValueError(f"point={point!r} is not a grid point of sweep {sweep!r}: {sorted(points)}")
    return points[point]


def resolve_point(config: Mapping, sweep: str, point: str, case: str, method: str) -> dict:
    """Everything one sweep job needs: ``sweep``, ``point``, ``values`` and ``runs`` (one resolved run per sweep seed)."""
    values = point_values(config, sweep, point)
    if method not in config["sweeps"]["grids"][sweep]["methods"]:
        raise ValueError(f"method={method!r} is not swept by {sweep!r}: {config['sweeps']['grids'][sweep]['methods']}")
    options = {key: config["sweeps"][key] for key in ("record_every", "geometric_first_to_last")}
    runs = [apply_point(resolve_run(config, case, method, seed), values, options)
            for seed in config["sweeps"]["seeds"]]
    return {"sweep": sweep, "point": point, "values": values, "runs": runs}


def check_sweeps(config: Mapping) -> None:
    """Cross-key checks of ``config["sweeps"]`` (the schema checks types); ValueError naming key and value."""
    spec = config["sweeps"]
    extra = sorted(set(spec["seeds"]) - set(config["seeds"]))
    if extra:
        raise ValueError(f"sweeps.seeds={spec['seeds']!r}: seeds {extra} are not in seeds={config['seeds']!r} "
                         "(sweep runs are paired with the main runs by seed)")
    if len(set(spec["seeds"])) != len(spec["seeds"]):
        raise ValueError(f"sweeps.seeds={spec['seeds']!r} has duplicate values")
    options = {key: spec[key] for key in ("record_every", "geometric_first_to_last")}
    for sweep, grid in spec["grids"].items():
        for key in ("methods", "references"):
            unknown = [m for m in grid.get(key, []) if m not in config["methods"]]
            if unknown:
                raise ValueError(f"sweeps.grids.{sweep}.{key}={grid[key]!r}: {unknown} not in methods "
                                 f"{sorted(config['methods'])}")
        for name, values in grid["parameters"].items():
            labels = [format_value(v) for v in values]
            if len(set(labels)) != len(labels):
                raise ValueError(f"sweeps.grids.{sweep}.parameters.{name}={values!r} has duplicate values")
        case = next(iter(config["cases"]))
        for method in grid["methods"]:
            for _, values in grid_points(grid):
                try:
                    apply_point(resolve_run(config, case, method, config["seeds"][0]), values, options)
                except ValueError as error:
                    raise ValueError(f"sweeps.grids.{sweep}: {error}") from None


# ------------------------------------------------------------ results
def combine_points(points: list[tuple[str, Mapping, xr.Dataset]]) -> xr.Dataset:
    """Stack the files of one sweep along a new ``point`` dim (outer join over iterations and members).

    ``points``: ``(label, values, dataset)`` with ``dataset`` as written by a sweep job
    (dims ``case, method, seed``; one case and method per file). Each parameter
    becomes a coordinate ``swept_<parameter>`` on ``point``; points, cases and methods keep the order given.
    """
    if not points:
        raise ValueError("combine_points needs at least one sweep file")
    order = {"point": list(dict.fromkeys(label for label, _, _ in points))}
    for dim in ("case", "method"):
        order[dim] = list(dict.fromkeys(str(value) for _, _, ds in points for value in ds[dim].values))
    pieces = [ds.expand_dims(point=[label]) for label, _, ds in points]
    cube = xr.combine_by_coords(pieces, compat="equals", data_vars="minimal", coords="minimal",
                                join="outer", combine_attrs="drop")
    cube = cube.reindex(order)
    labels = order["point"]
    values = {label: vals for label, vals, _ in points}
    for name in values[labels[0]]:
        cube = cube.assign_coords({PREFIX + name: ("point", [values[label][name] for label in labels])})
    for name in ("status", "trainer"):
        if name in cube:
            cube[name] = cube[name].astype(str)
    for variable in cube.variables.values():
        variable.encoding = {}
    return cube


def swept_parameters(cube: xr.Dataset) -> dict[str, str]:
    """``{parameter: coordinate name}`` of the grid values of a sweep cube, in grid order."""
    return {name.removeprefix(PREFIX): name for name in cube.coords if name.startswith(PREFIX)}


def _finals(cube: xr.Dataset, name: str) -> xr.DataArray:
    return cube[name].where(cube["status"] == "ok")


def _last(cube: xr.Dataset, name: str) -> xr.DataArray:
    return last_finite(cube[name]).where(cube["status"] == "ok")


SWEEP_METRICS = {"final_test_rmse": "test RMSE", "final_test_r2": "test R²", "crps": "CRPS"}


def _summary_row(cube: xr.Dataset, where: Mapping, confidence: float) -> dict:
    status = cube["status"].sel(where)
    ok = status == "ok"
    row = {"n_seeds": int(status.size), "n_ok": int(ok.sum())}
    members = cube["n_members"].sel(where).values[ok.values]
    params = cube["n_params"].sel(where).values[ok.values]
    row["n_members"] = float(members[0]) if members.size else np.nan
    row["members_per_param"] = float(members[0] / params[0]) if members.size else np.nan
    for column, name in (("cost", "n_forward"), ("steps", "step")):
        row[column] = float(np.nanmean(_last(cube, name).sel(where).values)) if row["n_ok"] else np.nan
    for name, label in SWEEP_METRICS.items():
        iv = mean_ci(_finals(cube, name).sel(where).values, confidence)
        short = name.removeprefix("final_")
        row[f"{short}_mean"], row[f"{short}_ci"] = iv.mean, iv.high - iv.mean
    return row


def sweep_table(cube: xr.Dataset, references: xr.Dataset | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """One row per (point, case, method) of a sweep cube, then one per (case, reference method).

    Columns: ``point``, the grid parameters, ``case``, ``method``, ``n_seeds``, ``n_ok``,
    ``n_members``, ``members_per_param``, ``cost`` (mean total training cost in
    forward evaluations), ``steps`` (mean number of trainer steps: epochs, EnKF updates or
    ESMDA assimilations) and
    ``<metric>_mean`` / ``<metric>_ci`` (Student-t half-width at ``confidence``) for
    test RMSE, test R^2 and CRPS of the final ensemble. ``references`` is the main
    summary cube restricted to the reference methods and the sweep seeds; its rows
    have ``point = "main run"`` and empty parameters.
    """
    parameters = swept_parameters(cube)
    rows = []
    for point in cube["point"].values:
        for case in cube["case"].values:
            for method in cube["method"].values:
                where = {"point": point, "case": case, "method": method}
                row = {"point": str(point), **{p: cube[c].sel(point=point).item() for p, c in parameters.items()},
                       "case": str(case), "method": str(method)}
                rows.append({**row, **_summary_row(cube, where, confidence)})
    if references is not None:
        for case in references["case"].values:
            for method in references["method"].values:
                where = {"case": case, "method": method}
                row = {"point": "main run", **{p: None for p in parameters}, "case": str(case), "method": str(method)}
                rows.append({**row, **_summary_row(references, where, confidence)})
    table = pd.DataFrame(rows)
    for name in parameters:  # keep 10 as 10 (not 10.0) beside the reference rows' None
        table[name] = pd.Series([row[name] for row in rows], dtype=object)
    return table
