"""The stochastic (perturbed-observation) ensemble Kalman update, solved in the smaller space.

For an ensemble ``X`` of shape ``(N, p)`` with predictions ``Y = G(X)`` of shape
``(N, d)``, observations ``y`` ``(d,)``, noise std ``sigma`` ``(d,)`` and
inflation ``alpha``, the update (Evensen 2009, eq. 9.27; Emerick & Reynolds 2013,
eq. 3 for the inflated form) is::

    X_a = X + (D - Y) (C_YY + alpha R)^{-1} C_YX,   D = y + sqrt(alpha) sigma * E,  E ~ N(0, I)

with ``C_YY = S^T S``, ``C_YX = S^T A``, ``A = (X - mean X) / sqrt(N-1)``,
``S = (Y - mean Y) / sqrt(N-1)`` and ``R = diag(sigma**2)``. Whitening by
``sqrt(alpha) sigma`` gives ``S_w`` and innovations ``W = (D - Y) / (sqrt(alpha) sigma)``, so::

    X_a = X + T A,   T = W (S_w^T S_w + I_d)^{-1} S_w^T            (observation space, d <= N)
                      = W S_w^T (S_w S_w^T + I_N)^{-1}             (ensemble space, d > N; Woodbury)

``T`` is ``N x N``; no ``p x p`` or ``d x d`` matrix larger than ``min(N, d)``
squared is formed, and the solves are exact Cholesky solves.
Cost: ``O(N d min(N, d) + min(N, d)**3 + N**2 p)``.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg


def anomalies(values: np.ndarray) -> np.ndarray:
    """``(values - mean over members) / sqrt(N - 1)``; ``values`` is ``(N, k)``."""
    return (values - values.mean(axis=0)) / np.sqrt(values.shape[0] - 1)


def standard_normal_perturbations(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    """I.i.d. ``N(0, 1)`` draws of ``shape = (N, d)``."""
    return rng.standard_normal(shape).astype(dtype, copy=False)


def moment_matched_perturbations(rng: np.random.Generator, ensemble: np.ndarray, n_obs: int) -> np.ndarray:
    """Perturbations ``E (N, d)`` whose sample moments are exact (Evensen 2004, "improved sampling").

    ``E`` has zero column means, sample covariance ``E^T E / (N-1) = I_d`` and is
    orthogonal to the parameter anomalies of ``ensemble (N, p)``. Needs
    ``N - 1 >= rank(anomalies) + d``. Costs an SVD of ``(N, p)``: for tests and small problems.
    """
    n_members = ensemble.shape[0]
    basis = np.column_stack([np.ones(n_members), ensemble - ensemble.mean(axis=0)])
    u, s, _ = np.linalg.svd(basis, full_matrices=False)
    u = u[:, s > s[0] * n_members * np.finfo(float).eps]
    if n_members - u.shape[1] < n_obs:
        raise ValueError(
            f"moment-matched perturbations need n_members - rank >= n_obs; got "
            f"n_members={n_members}, rank={u.shape[1]}, n_obs={n_obs}"
        )
    draws = rng.standard_normal((n_members, n_obs))
    draws -= u @ (u.T @ draws)
    chol = np.linalg.cholesky(draws.T @ draws / (n_members - 1))
    return scipy.linalg.solve_triangular(chol, draws.T, lower=True).T.astype(ensemble.dtype, copy=False)


def ensemble_transform(predictions: np.ndarray, observations: np.ndarray, obs_std: np.ndarray,
                       alpha: float, perturbations: np.ndarray) -> np.ndarray:
    """The ``(N, N)`` matrix ``T`` of the update ``X_a = X + T A`` (module docstring).

    Parameters
    ----------
    predictions : (N, d)  ``Y = G(X)``
    observations : (d,)
    obs_std : (d,)  ``sigma`` before inflation
    alpha : float   noise inflation (1 for a plain EnKF/ES update)
    perturbations : (N, d)  standard-normal ``E``
    """
    n_members, n_obs = predictions.shape
    scale = float(np.sqrt(alpha)) * obs_std
    s_w = anomalies(predictions) / scale
    innovations = (observations - predictions) / scale + perturbations
    if n_obs <= n_members:
        gram = s_w.T @ s_w
        gram[np.diag_indices_from(gram)] += 1.0
        solved = scipy.linalg.solve(gram, innovations.T, assume_a="pos")  # (d, N)
        return solved.T @ s_w.T
    gram = s_w @ s_w.T
    gram[np.diag_indices_from(gram)] += 1.0
    projected = innovations @ s_w.T  # (N, N)
    return scipy.linalg.solve(gram, projected.T, assume_a="pos").T


def apply_transform(ensemble: np.ndarray, transform: np.ndarray) -> np.ndarray:
    """``X + T A`` for ``ensemble X (N, p)``; returns a new array of ``X``'s dtype."""
    return ensemble + (transform @ anomalies(ensemble)).astype(ensemble.dtype, copy=False)
