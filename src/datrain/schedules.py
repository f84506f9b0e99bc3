"""Inflation schedules for ESMDA.

A fixed schedule satisfies ``sum_i 1/alpha_i = 1`` (Emerick & Reynolds 2013, eq. 6),
which makes ESMDA exact for linear-Gaussian problems. The adaptive schedule is the
data-misfit controller of Iglesias & Yang (2021), as in EnsembleKalmanProcesses.jl:
ESMDA is ensemble Kalman inversion run to time 1 with steps ``dt_i = 1/alpha_i``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from datrain.validation import check_positive


def fixed_alphas(alphas, normalize: bool = True) -> np.ndarray:
    """Resolve ``alphas`` to an array of inflation factors.

    An int ``k`` gives ``[k] * k``. A sequence is rescaled by ``sum(1/alpha)``
    so that ``sum(1/alpha_i) = 1``, unless ``normalize=False``.
    """
    if isinstance(alphas, (bool, np.bool_)):
        raise ValueError(f"alphas={alphas!r} must be a positive int or a sequence of positive numbers")
    if isinstance(alphas, (int, np.integer)):
        if alphas < 1:
            raise ValueError(f"alphas={alphas!r}: the number of assimilations must be >= 1")
        return np.full(int(alphas), float(alphas))
    values = np.asarray(alphas, dtype=float).reshape(-1)
    if values.size == 0:
        raise ValueError("alphas=[] must contain at least one inflation factor")
    check_positive("alphas", values)
    if normalize:
        values = values * np.sum(1.0 / values)
    return values


def geometric_alphas(n_assimilations: int, ratio: float) -> np.ndarray:
    """Decreasing geometric schedule ``alpha_i ∝ ratio**-(i)``, normalised to ``sum 1/alpha = 1``."""
    if n_assimilations < 1:
        raise ValueError(f"n_assimilations={n_assimilations!r} must be >= 1")
    check_positive("ratio", ratio)
    return fixed_alphas(float(ratio) ** -np.arange(n_assimilations, dtype=float))


class DataMisfitController:
    """Adaptive ``alpha`` from the ensemble's data misfit (Iglesias & Yang 2021, eq. 4.7).

    With ``Phi_j = 0.5 * ||(y - G(x_j)) / sigma||^2`` over ``d`` observations::

        dt = min(max(d / (2 mean Phi), sqrt(d / (2 var Phi))), 1 - t),  alpha = 1 / dt

    and the algorithm time ``t`` advances by ``dt`` until it reaches 1, so
    ``sum 1/alpha = 1`` holds by construction.
    """

    def __init__(self, max_assimilations: int = 50):
        self.max_assimilations = max_assimilations
        self.time = 0.0
        self.n_assimilations = 0

    @property
    def finished(self) -> bool:
        return self.time >= 1.0 - 1e-12

    def next_alpha(self, predictions: np.ndarray, observations: np.ndarray, obs_std: np.ndarray) -> float:
        """``predictions (N, d)``; returns the next ``alpha`` and advances time."""
        misfit = 0.5 * np.sum(((observations - predictions) / obs_std) ** 2, axis=1, dtype=float)
        n_obs = predictions.shape[1]
        remaining = 1.0 - self.time
        if self.n_assimilations == self.max_assimilations - 1:
            dt = remaining
        else:
            variance = np.var(misfit)
            by_mean = n_obs / (2.0 * np.mean(misfit))
            by_var = np.sqrt(n_obs / (2.0 * variance)) if variance > 0 else np.inf
            dt = min(max(by_mean, by_var), remaining)
        self.time += dt
        self.n_assimilations += 1
        if remaining - dt <= 1e-12:
            self.time = 1.0
        return 1.0 / dt


def resolve_schedule(alphas, normalize: bool):
    """A ``DataMisfitController`` for ``alphas="adaptive"``, else a fixed array."""
    if isinstance(alphas, str):
        if alphas != "adaptive":
            raise ValueError(f"alphas={alphas!r}: the only named schedule is 'adaptive'")
        return DataMisfitController()
    return fixed_alphas(alphas, normalize)
