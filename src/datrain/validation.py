"""Argument checks shared by the trainers. Every error names the argument and its value."""
from __future__ import annotations

import numpy as np


def as_generator(rng) -> np.random.Generator:
    """Accept ``None``, an int seed, a ``SeedSequence`` or a ``Generator``."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer, np.random.SeedSequence)):
        return np.random.default_rng(rng)
    raise ValueError(f"rng={rng!r} must be None, an int seed, a SeedSequence or a numpy Generator")


def _describe(values: np.ndarray) -> str:
    flat = np.ravel(values)
    return repr(flat[0].item()) if flat.size == 1 else f"array with values like {flat[:3].tolist()}"


def check_positive(name: str, values) -> None:
    values = np.asarray(values, dtype=float)
    bad = ~(values > 0) | ~np.isfinite(values)
    if np.any(bad):
        raise ValueError(f"{name} must be finite and > 0; got {_describe(values[bad])}")


def check_finite(name: str, values) -> None:
    values = np.asarray(values)
    if not np.all(np.isfinite(values)):
        n_bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
        raise ValueError(f"{name} contains {n_bad} NaN/inf value(s)")


def check_ensemble(ensemble) -> np.ndarray:
    """``ensemble`` must be a finite floating array ``(n_members >= 2, n_params)``."""
    ensemble = np.asarray(ensemble)
    if ensemble.ndim != 2:
        raise ValueError(f"ensemble has shape {ensemble.shape}; expected (n_members, n_params)")
    if ensemble.shape[0] < 2:
        raise ValueError(f"ensemble has {ensemble.shape[0]} member(s); at least 2 are needed")
    if not np.issubdtype(ensemble.dtype, np.floating):
        ensemble = ensemble.astype(float)
    check_finite("ensemble", ensemble)
    return ensemble


def check_data(X, y, dtype):
    """``X``: (n_samples, ...) finite; ``y``: first axis n_samples, finite. Returns float copies-or-views."""
    X = np.asarray(X)
    y = np.asarray(y)
    if X.shape[:1] != y.shape[:1]:
        raise ValueError(f"X has {X.shape[0] if X.ndim else 0} rows but y has {y.shape[0] if y.ndim else 0}")
    check_finite("X", X)
    check_finite("y", y)
    return X, y.astype(dtype, copy=False)


def check_obs_std(obs_std, n_obs: int, dtype) -> np.ndarray:
    """Scalar or one value per observation; returns ``(n_obs,)``."""
    obs_std = np.asarray(obs_std, dtype=dtype)
    check_positive("obs_std", obs_std)
    if obs_std.ndim == 0:
        return np.full(n_obs, obs_std, dtype=dtype)
    if obs_std.size != n_obs:
        raise ValueError(f"obs_std has {obs_std.size} values; expected 1 or n_obs={n_obs}")
    return obs_std.reshape(n_obs)


def check_positive_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}={value!r} must be an integer >= {minimum}")
    return int(value)


def check_da_inputs(ensemble, X, y, obs_std):
    """Validate the common arguments of the DA trainers.

    Returns ``ensemble (N, p)``, ``X``, ``y`` with shape ``(n_samples, ...)`` in the
    ensemble dtype and ``obs_std`` broadcast to ``y.shape``.
    """
    ensemble = check_ensemble(ensemble)
    X, y = check_data(X, y, ensemble.dtype)
    obs_std = check_obs_std(obs_std, y.size, ensemble.dtype).reshape(y.shape)
    return ensemble, X, y, obs_std
