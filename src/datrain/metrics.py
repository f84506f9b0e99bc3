"""Scores for point predictions, ensembles and parameter uncertainty.

Shapes: ``predictions`` of an ensemble are ``(n_members, n_samples)`` (any
trailing output axes are flattened); ``truth`` is ``(n_samples,)``.
"""
from __future__ import annotations

import numpy as np
from scipy.stats import norm


def rmse(prediction, truth) -> float:
    """``sqrt(mean((prediction - truth)**2))``.

    Computed as ``s * sqrt(mean((r / s)**2))`` with ``s = max |r|``, so that finite
    residuals beyond ~1e154 (a diverging run) give a finite RMSE rather than overflow.
    NaN or inf residuals give NaN or inf.
    """
    residual = np.ravel(prediction) - np.ravel(truth)
    scale = np.max(np.abs(residual), initial=0.0)
    if not 0.0 < scale < np.inf:  # all zero, or a NaN/inf residual
        return float(scale)
    return float(scale * np.sqrt(np.mean((residual / scale) ** 2)))


def r2(prediction, truth) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot`` (SS_tot about the mean of ``truth``)."""
    prediction, truth = np.ravel(prediction), np.ravel(truth)
    ss_res = np.sum((truth - prediction) ** 2)
    ss_tot = np.sum((truth - truth.mean()) ** 2)
    return float(1.0 - ss_res / ss_tot)


def _members(predictions) -> np.ndarray:
    predictions = np.asarray(predictions)
    return predictions.reshape(predictions.shape[0], -1)


def predictive_mean_std(predictions):
    """Ensemble mean and std (ddof=1) over members: two ``(n_samples,)`` arrays."""
    members = _members(predictions)
    std = members.std(axis=0, ddof=1) if members.shape[0] > 1 else np.zeros(members.shape[1])
    return members.mean(axis=0), std


def interval_coverage(predictions, truth, levels=(0.5, 0.8, 0.9, 0.95)) -> np.ndarray:
    """Fraction of ``truth`` inside the central ensemble interval at each nominal level.

    The interval for level ``c`` spans the empirical ``(1-c)/2`` and ``(1+c)/2``
    quantiles of the members (linear interpolation). Returns ``(len(levels),)``.
    """
    members, truth = _members(predictions), np.ravel(truth)
    out = []
    for level in levels:
        low, high = np.quantile(members, [(1 - level) / 2, (1 + level) / 2], axis=0)
        out.append(np.mean((truth >= low) & (truth <= high)))
    return np.array(out)


def crps_ensemble(predictions, truth) -> float:
    """Mean CRPS of the ensemble's empirical distribution (Gneiting & Raftery 2007, eq. 21)::

        CRPS = E|X - y| - 0.5 E|X - X'|

    computed per sample in ``O(N log N)`` with sorted members, then averaged.
    """
    members, truth = np.sort(_members(predictions), axis=0), np.ravel(truth)
    n = members.shape[0]
    skill = np.mean(np.abs(members - truth), axis=0)
    # sum_{i,j} |x_i - x_j| = 2 sum_i (2i - n - 1) x_(i) for sorted x, i = 1..n
    weights = (2 * np.arange(1, n + 1) - n - 1)[:, None]
    spread = 2.0 * np.sum(weights * members, axis=0) / (n * n)
    return float(np.mean(skill - 0.5 * spread))


def crps_gaussian(mean, std, truth) -> float:
    """Closed-form CRPS of ``N(mean, std**2)`` averaged over samples (for checking ``crps_ensemble``)."""
    mean, std, truth = map(np.ravel, (mean, std, truth))
    z = (truth - mean) / std
    return float(np.mean(std * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi))))


def parameter_std(ensemble) -> np.ndarray:
    """Per-parameter ensemble std (ddof=1) of ``ensemble (N, p)``; returns ``(p,)``."""
    return np.std(np.asarray(ensemble), axis=0, ddof=1)


def trace_ratio(ensemble, prior_ensemble) -> float:
    """``trace(C_posterior) / trace(C_prior)``: 1 means no uncertainty reduction."""
    return float(np.sum(parameter_std(ensemble) ** 2) / np.sum(parameter_std(prior_ensemble) ** 2))
