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
squared is formed, and the solves are exact Cholesky solves. The trainers call
:func:`kalman_update`, which for small batches skips ``T`` and applies the gain form
``X_a = X + W (S_w^T S_w + I_d)^{-1} S_w^T A``.
Cost: ``O(N d min(N, d) + min(N, d)**3 + N min(N, d) p)``.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import scipy.linalg


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


def kalman_update(ensemble: np.ndarray, predictions: np.ndarray, observations: np.ndarray,
                  obs_std: np.ndarray, alpha: float, perturbations: np.ndarray) -> np.ndarray:
    """One stochastic EnKF/ES update ``X_a = X + T A`` (module docstring) by the cheaper exact route.

    Parameters
    ----------
    ensemble : (N, p)  ``X``; not modified
    predictions, observations, obs_std, alpha, perturbations : as in :func:`ensemble_transform`

    Returns
    -------
    (N, p) ``X_a``, in ``X``'s dtype.

    Routes (same result up to rounding):

    * gain form, when ``d <= N`` and ``2 d p <= N (d + p)`` (small batches)::

          X_a = X + V (S_w^T X) / sqrt(N-1),   V = W (S_w^T S_w + I_d)^{-1}   (N, d)

      using ``S_w^T A = S_w^T X / sqrt(N-1)`` (the columns of ``S_w`` are centred).
      Cost ``O(N d p + N d**2 + d**3)``.
    * transform form, otherwise: :func:`apply_transform` of :func:`ensemble_transform`.
      Cost ``O(N**2 (d + p))`` after the whitening.
    """
    n_members, n_params = ensemble.shape
    n_obs = predictions.shape[1]
    if n_obs > n_members or 2 * n_obs * n_params > n_members * (n_obs + n_params):
        return apply_transform(ensemble, ensemble_transform(predictions, observations, obs_std,
                                                            alpha, perturbations))
    s_w, innovations = _whiten(predictions, observations, obs_std, alpha, perturbations)
    weights = _observation_space_weights(s_w, innovations) / math.sqrt(n_members - 1)
    dtype = ensemble.dtype
    updated = weights.astype(dtype, copy=False) @ (s_w.T.astype(dtype, copy=False) @ ensemble)
    updated += ensemble
    return updated


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

    The symmetric positive-definite system (``S_w^T S_w + I_d`` or ``S_w S_w^T + I_N``,
    eigenvalues >= 1) is solved exactly by LAPACK ``posv`` (Cholesky).
    """
    n_members, n_obs = predictions.shape
    s_w, innovations = _whiten(predictions, observations, obs_std, alpha, perturbations)
    if n_obs <= n_members:
        return _observation_space_weights(s_w, innovations) @ s_w.T
    gram = s_w @ s_w.T
    gram.flat[:: n_members + 1] += 1.0
    projected = innovations @ s_w.T  # (N, N)
    return _solve_spd(gram, projected.T).T  # gram is symmetric: (gram^{-1} P^T)^T = P gram^{-1}


def apply_transform(ensemble: np.ndarray, transform: np.ndarray) -> np.ndarray:
    """``X + T A`` for ``ensemble X (N, p)``; returns a new array of ``X``'s dtype.

    With ``A = C X / sqrt(N-1)`` and the centring matrix ``C = I - 1 1^T / N``, this is
    one ``(N, N) @ (N, p)`` product ``X_a = M X`` with ``M = I + T C / sqrt(N-1)``
    (the ``A_a = A X_5`` form of Evensen 2003): no ``(N, p)`` temporaries, so the
    memory traffic is one read of ``X`` and one write of ``X_a``. ``T C`` subtracts
    each row's mean from ``T``; its rows sum to zero, so in exact arithmetic the
    ensemble mean drops out as in the centred form (rounding grows with
    ``|mean X| / spread``, like the rounding of ``X_a`` itself).
    """
    n_members = ensemble.shape[0]
    mixing = transform - _member_mean(transform.T)[:, None]  # T C, rows of T centred
    mixing /= math.sqrt(n_members - 1)
    mixing.flat[:: n_members + 1] += 1.0
    return mixing.astype(ensemble.dtype, copy=False) @ ensemble


def _whiten(predictions, observations, obs_std, alpha, perturbations):
    """``S_w = (Y - mean Y) / (sqrt(N-1) sqrt(alpha) sigma)`` and ``W = (D - Y) / (sqrt(alpha) sigma)``, both (N, d)."""
    inv_scale = (1.0 / math.sqrt(alpha)) / obs_std  # (d,)
    s_w = predictions - _member_mean(predictions)
    s_w *= inv_scale / math.sqrt(predictions.shape[0] - 1)
    innovations = observations - predictions
    innovations *= inv_scale
    innovations += perturbations
    return s_w, innovations


def _observation_space_weights(s_w: np.ndarray, innovations: np.ndarray) -> np.ndarray:
    """``V = W (S_w^T S_w + I_d)^{-1}``, (N, d), from a ``d x d`` Cholesky solve."""
    n_obs = s_w.shape[1]
    gram = s_w.T @ s_w
    gram.flat[:: n_obs + 1] += 1.0
    return _solve_spd(gram, innovations.T).T


def _member_mean(values: np.ndarray) -> np.ndarray:
    """Mean over the member axis of ``values (N, k)`` -> ``(k,)``, without ``ndarray.mean``'s Python overhead."""
    return np.add.reduce(values, axis=0) / values.shape[0]


def _solve_spd(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Exact Cholesky solve of ``matrix x = rhs`` for symmetric positive-definite ``matrix (k, k)`` (overwritten)."""
    posv = _posv(np.result_type(matrix, rhs))
    _, solution, info = posv(matrix, rhs, lower=True, overwrite_a=True)
    if info != 0:
        raise np.linalg.LinAlgError(
            f"Kalman gain system is not positive definite (LAPACK {posv.typecode}posv info={info}); "
            "the predictions are probably too large or non-finite"
        )
    return solution


@functools.lru_cache(maxsize=None)
def _posv(dtype: np.dtype):
    """LAPACK ``?posv`` for ``dtype``, looked up once (the look-up costs more than a tiny solve)."""
    return scipy.linalg.get_lapack_funcs("posv", dtype=dtype)
