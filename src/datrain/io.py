"""NetCDF files of the replication pipeline: datasets, runs and the summary cube.

Three kinds of file, all read and written with xarray's ``h5netcdf`` engine:

* **dataset** ``data/{case}.nc`` -- one synthetic problem (:func:`dataset_to_xarray`,
  :func:`load_dataset`);
* **run** ``results/runs/{case}/{method}/seed{seed}.nc`` -- one training run
  (:func:`run_to_xarray`), with ``case``, ``method`` and ``seed`` as length-1
  dimensions so that runs combine by coordinates;
* **summary** ``results/summary.nc`` -- all runs on one outer-joined cube (:func:`combine_runs`).

Writes are atomic (:func:`write_netcdf`): a reader sees either no file or a
complete one. Every file carries provenance string attributes (:func:`provenance`).

Run file layout (dims in brackets; ``K`` recorded steps, ``N`` members,
``T`` test-grid points, ``n`` training points, ``L`` coverage levels, ``n_in`` inputs)::

    step, n_forward, wall_time, alpha, train_rmse, train_r2,
    test_rmse, test_r2, param_spread            (case, method, seed, iteration[K])
    member_test_rmse                            (case, method, seed, member[N])
    pred_mean, pred_std                         (case, method, seed, test_point[T])
    coverage                                    (case, method, seed, level[L])
    crps, final_train_rmse, final_train_r2, final_test_rmse, final_test_r2,
    n_members, n_params, members_per_param, trainer, status, diverged_at   (case, method, seed)
    x_test (case, test_point, input_dim[n_in]); y_test (case, test_point)
    x_train (case, train_point[n], input_dim); y_train (case, train_point)

A diverged run keeps its history up to the last finite step; its final-state
variables (predictions, member RMSE, coverage, CRPS, ``final_*``) are NaN.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import xarray as xr

from datrain.datasets import REGISTRY, Dataset

ENGINE = "h5netcdf"
RUN_DIMS = ("case", "method", "seed")
STATUSES = ("ok", "diverged", "missing")
# Data variables that measure elapsed time: the only ones that differ between reruns.
TIMING_VARIABLES = ("wall_time",)

# name: (units, long_name); units follow CF (``1`` = dimensionless).
HISTORY_VARIABLES = {
    "step": ("1", "trainer step: epoch (gd, adam), assimilation (esmda) or update (enkf)"),
    "n_forward": ("1", "cumulative training cost in forward-equivalent evaluations (member x sample; backward = 2)"),
    "wall_time": ("s", "cumulative training wall-clock time, monitoring excluded"),
    "alpha": ("1", "inflation factor of the Kalman update (NaN for gradient trainers)"),
    "train_rmse": ("1", "RMSE of the ensemble-mean prediction against the noisy training targets"),
    "train_r2": ("1", "R^2 of the ensemble-mean prediction against the noisy training targets"),
    "test_rmse": ("1", "RMSE of the ensemble-mean prediction against the noise-free test grid"),
    "test_r2": ("1", "R^2 of the ensemble-mean prediction against the noise-free test grid"),
    "param_spread": ("1", "sqrt(trace(C)/n_params) of the parameter ensemble covariance C"),
}
FINAL_VARIABLES = {
    "member_test_rmse": ("1", "test RMSE of each member of the final ensemble"),
    "pred_mean": ("1", "final ensemble-mean prediction on the test grid"),
    "pred_std": ("1", "final ensemble standard deviation (ddof=1) on the test grid; 0 for one member"),
    "coverage": ("1", "fraction of the noise-free test truth inside the central ensemble interval"),
    "crps": ("1", "mean ensemble CRPS of the final predictions against the noise-free test truth"),
    "final_train_rmse": ("1", "train RMSE of the final ensemble-mean prediction"),
    "final_train_r2": ("1", "train R^2 of the final ensemble-mean prediction"),
    "final_test_rmse": ("1", "test RMSE of the final ensemble-mean prediction"),
    "final_test_r2": ("1", "test R^2 of the final ensemble-mean prediction"),
}
RUN_INFO_VARIABLES = {
    "n_members": ("1", "ensemble size N (number of independently trained networks for gd/adam)"),
    "n_params": ("1", "number of network parameters p"),
    "members_per_param": ("1", "N / p; with N < p the ensemble update stays in the span of the prior"),
    "trainer": ("", "datrain trainer of the method: gd, adam, esmda or enkf"),
    "status": ("", "run outcome: ok, diverged or missing"),
    "diverged_at": ("1", "first step with non-finite parameters or predictions; -1 if none"),
}
GRID_VARIABLES = {
    "x_test": ("1", "test-grid inputs"),
    "y_test": ("1", "noise-free target on the test grid"),
    "x_train": ("1", "training inputs"),
    "y_train": ("1", "noisy training targets"),
}
RUN_VARIABLES = {**HISTORY_VARIABLES, **FINAL_VARIABLES, **RUN_INFO_VARIABLES, **GRID_VARIABLES}


class DataFileError(ValueError):
    """A dataset or run file is missing, unreadable or has the wrong content; the message names the file."""


# ----------------------------------------------------------------- file I/O
@contextmanager
def atomic_output(path):
    """Yield a temporary path next to ``path``; on success rename it to ``path`` (``os.replace``).

    A reader sees either the old file, no file, or the complete new one; on error the
    temporary file is removed. The suffix is kept so that writers can infer the format.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
    os.close(handle)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the result the usual permissions
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_netcdf(ds: xr.Dataset, path) -> Path:
    """Write ``ds`` to ``path`` atomically (:func:`atomic_output`) with the h5netcdf engine."""
    with atomic_output(path) as tmp:
        ds.to_netcdf(tmp, engine=ENGINE)
    return Path(path)


def read_netcdf(path) -> xr.Dataset:
    """Load a whole NetCDF file into memory and close it; errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: file not found")
    try:
        with xr.open_dataset(path, engine=ENGINE) as ds:
            return ds.load()
    except Exception as error:  # h5py/xarray raise OSError, ValueError, KeyError... for bad files
        raise DataFileError(f"{path}: not a readable NetCDF file ({type(error).__name__}: {error})") from None


# --------------------------------------------------------------- provenance
def config_sha256(config) -> str:
    """SHA-256 of the canonical JSON of ``config`` (sorted keys, no whitespace)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def git_commit(path=".") -> str:
    """``HEAD`` of the git work tree containing ``path``, with ``-dirty`` if it has changes; else "unknown"."""
    try:
        head = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=10)
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def provenance(rule: str, config_hash: str, seeds: Mapping, parameters: Mapping) -> dict[str, str]:
    """String attributes recording what produced a file.

    ``config_hash`` is the SHA-256 of the configuration that determines the file,
    ``seeds`` and ``parameters`` are JSON-encoded.
    """
    return {
        "config_sha256": config_hash,
        "datrain_version": _version("datrain"),
        "git_commit": git_commit(),
        "numpy_version": np.__version__,
        "xarray_version": xr.__version__,
        "snakemake_version": _version("snakemake"),
        "seeds": json.dumps(seeds, sort_keys=True),
        "rule": rule,
        "parameters": json.dumps(parameters, sort_keys=True),
    }


def _with_attrs(ds: xr.Dataset, table: Mapping[str, tuple[str, str]]) -> xr.Dataset:
    for name, (units, long_name) in table.items():
        if name in ds:
            ds[name].attrs.update({"long_name": long_name, **({"units": units} if units else {})})
    return ds


# ----------------------------------------------------------------- datasets
DATASET_VARIABLES = ("x_train", "y_train", "f_train", "x_test", "y_test")


def dataset_to_xarray(data: Dataset, attrs: Mapping[str, str]) -> xr.Dataset:
    """``data/{case}.nc`` content: training points, noise-free truth and the test grid."""
    ds = xr.Dataset(
        {
            "x_train": (("train_point", "input_dim"), data.x_train),
            "y_train": ("train_point", data.y_train[:, 0]),
            "f_train": ("train_point", data.f_train[:, 0]),
            "x_test": (("test_point", "input_dim"), data.x_test),
            "y_test": ("test_point", data.y_test[:, 0]),
        },
        attrs={"problem": data.name, "noise_std": data.noise_std, **attrs},
    )
    ds["f_train"].attrs.update(long_name="noise-free target at the training inputs", units="1")
    return _with_attrs(ds, GRID_VARIABLES)


def load_dataset(path) -> Dataset:
    """Read and check a dataset file; every failure is a :class:`DataFileError` naming ``path``.

    Checks: the file exists and opens, has the variables of :func:`dataset_to_xarray`
    with consistent shapes, a known ``problem`` attribute, and finite values.
    """
    ds = read_netcdf(path)
    missing = [name for name in DATASET_VARIABLES if name not in ds]
    if missing:
        raise DataFileError(f"{path}: missing variable(s) {missing}; expected {list(DATASET_VARIABLES)}")
    problem = ds.attrs.get("problem")
    if problem not in REGISTRY:
        raise DataFileError(f"{path}: attribute problem={problem!r} is not one of {sorted(REGISTRY)}")
    expected_dims = {"x_train": ("train_point", "input_dim"), "y_train": ("train_point",),
                     "f_train": ("train_point",), "x_test": ("test_point", "input_dim"),
                     "y_test": ("test_point",)}
    for name, dims in expected_dims.items():
        if ds[name].dims != dims:
            raise DataFileError(f"{path}: variable {name} has dims {ds[name].dims}; expected {dims}")
        values = ds[name].values
        if not np.issubdtype(values.dtype, np.number) or not np.all(np.isfinite(values)):
            raise DataFileError(f"{path}: variable {name} has NaN/inf or non-numeric values")
    n_in = REGISTRY[problem].n_in
    if ds.sizes["input_dim"] != n_in:
        raise DataFileError(f"{path}: input_dim={ds.sizes['input_dim']} but problem {problem!r} has {n_in} input(s)")
    return Dataset(problem, ds.x_train.values, ds.y_train.values[:, None], ds.f_train.values[:, None],
                   ds.x_test.values, ds.y_test.values[:, None], float(ds.attrs["noise_std"]))


# --------------------------------------------------------------------- runs
def run_to_xarray(case: str, method: str, seed: int, history: Mapping[str, np.ndarray],
                  final: Mapping[str, np.ndarray], info: Mapping, data: Dataset,
                  attrs: Mapping[str, str]) -> xr.Dataset:
    """Assemble one run file.

    Parameters
    ----------
    history : per-step arrays ``(K,)`` with the keys of ``HISTORY_VARIABLES``.
    final : ``member_test_rmse (N,)``, ``pred_mean``/``pred_std (T,)``, ``coverage (L,)``,
        ``levels (L,)`` and the scalars ``crps``, ``final_*``.
    info : ``n_members``, ``n_params``, ``trainer``, ``status``, ``diverged_at`` (None if it did not diverge).
    data : the run's dataset (grids stored with a ``case`` dim so that runs of one case combine).
    """
    if info["status"] not in STATUSES[:2]:
        raise ValueError(f"status={info['status']!r} must be 'ok' or 'diverged'")
    n_members, n_params = int(info["n_members"]), int(info["n_params"])
    per_run = {name: (("iteration",), np.asarray(history[name])) for name in HISTORY_VARIABLES}
    per_run.update({
        "member_test_rmse": (("member",), np.asarray(final["member_test_rmse"], dtype=float)),
        "pred_mean": (("test_point",), np.asarray(final["pred_mean"], dtype=float)),
        "pred_std": (("test_point",), np.asarray(final["pred_std"], dtype=float)),
        "coverage": (("level",), np.asarray(final["coverage"], dtype=float)),
        **{name: ((), float(final[name])) for name in
           ("crps", "final_train_rmse", "final_train_r2", "final_test_rmse", "final_test_r2")},
        "n_members": ((), n_members),
        "n_params": ((), n_params),
        "members_per_param": ((), n_members / n_params),
        "trainer": ((), info["trainer"]),
        "status": ((), info["status"]),
        "diverged_at": ((), -1 if info["diverged_at"] is None else int(info["diverged_at"])),
    })
    K = len(history["step"])
    ds = xr.Dataset(
        per_run,
        coords={"iteration": np.arange(K), "member": np.arange(n_members),
                "test_point": np.arange(len(data.y_test)), "level": np.asarray(final["levels"], dtype=float)},
    ).expand_dims({"case": [case], "method": [method], "seed": [int(seed)]})
    grids = xr.Dataset(
        {
            "x_test": (("test_point", "input_dim"), data.x_test),
            "y_test": (("test_point",), data.y_test[:, 0]),
            "x_train": (("train_point", "input_dim"), data.x_train),
            "y_train": (("train_point",), data.y_train[:, 0]),
        },
        coords={"train_point": np.arange(len(data.y_train)), "input_dim": np.arange(data.x_train.shape[1])},
    ).expand_dims({"case": [case]})
    ds = xr.merge([ds, grids], compat="equals", join="exact", combine_attrs="drop")
    ds["level"].attrs.update(long_name="nominal coverage of the central prediction interval", units="1")
    ds["iteration"].attrs.update(long_name="index of the recorded step")
    ds.attrs.update(attrs)
    return _with_attrs(ds, RUN_VARIABLES)


def _placeholder(case: str, method: str, seed: int, template: xr.Dataset) -> xr.Dataset:
    """A run that is expected but absent: ``template``'s layout with NaN data and ``status = "missing"``.

    ``template`` is a present run, of the same case if there is one; its grids are
    kept for the same case and set to NaN otherwise, so that all pieces agree.
    """
    same_case = str(template.case.item()) == case
    ds = template.assign_coords(case=[case], method=[method], seed=[int(seed)])
    for name in list(ds.data_vars):
        if name in GRID_VARIABLES and same_case:
            continue
        if name in ("status", "trainer"):
            ds[name] = ds[name].copy(data=np.full(ds[name].shape, "missing" if name == "status" else "unknown"))
        elif name == "diverged_at":
            ds[name] = ds[name].copy(data=np.full(ds[name].shape, -1))
        else:
            ds[name] = ds[name].copy(data=np.full(ds[name].shape, np.nan))
    return ds


def combine_runs(runs: Iterable[xr.Dataset], expected: Sequence[tuple[str, str, int]] | None = None,
                 attrs: Mapping[str, str] | None = None) -> xr.Dataset:
    """Outer-join run datasets into the summary cube ``(case, method, seed, ...)``.

    ``expected`` lists every ``(case, method, seed)`` the configuration asks for; an
    absent run enters the cube with ``status = "missing"`` and NaN data, and is
    listed in the attribute ``missing_runs``. Cases, methods and seeds keep the
    order of ``expected``. ``attrs`` replaces the dataset attributes (provenance).
    """
    runs = list(runs)
    present = {(str(r.case.item()), str(r.method.item()), int(r.seed.item())) for r in runs}
    if expected is None:
        expected = sorted(present)
    expected = [(c, m, int(s)) for c, m, s in expected]
    unexpected = sorted(present - set(expected))
    if unexpected:
        raise ValueError(f"runs {unexpected} are not in the expected set of (case, method, seed)")
    missing = [key for key in expected if key not in present]
    if not runs:
        raise ValueError("combine_runs needs at least one run")
    templates = {str(r.case.item()): r for r in runs}
    pieces = runs + [_placeholder(*key, templates.get(key[0], runs[0])) for key in missing]
    cube = xr.combine_by_coords(pieces, compat="equals", data_vars="minimal", coords="minimal",
                                join="outer", combine_attrs="drop_conflicts")
    order = {dim: list(dict.fromkeys(key[i] for key in expected)) for i, dim in enumerate(RUN_DIMS)}
    cube = cube.reindex(order)
    for name in ("status", "trainer"):
        cube[name] = cube[name].astype(str)
    for variable in cube.variables.values():
        variable.encoding = {}  # the runs' on-disk dtypes (int) cannot hold the outer join's NaN
    cube.attrs = dict(attrs or {})
    cube.attrs["missing_runs"] = json.dumps([list(key) for key in missing])
    return _with_attrs(cube, RUN_VARIABLES)


def load_runs(paths: Iterable) -> list[xr.Dataset]:
    """Read run files, checking that each has the run dims and a status; errors name the file."""
    runs = []
    for path in paths:
        ds = read_netcdf(path)
        absent = [name for name in (*RUN_DIMS, "status") if name not in ds.variables]
        if absent or any(ds.sizes[dim] != 1 for dim in RUN_DIMS if dim in ds.sizes):
            raise DataFileError(f"{path}: not a run file (needs length-1 dims {RUN_DIMS} and 'status'; "
                                f"missing {absent})")
        runs.append(ds)
    return runs
