"""Shared fixtures for the datrain unit tests: a linear-Gaussian oracle and a small MLP problem."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import datrain


@dataclass(frozen=True)
class Posterior:
    """Gaussian ``N(mean (p,), cov (p, p))`` with error measures in its own whitened units."""
    mean: np.ndarray
    cov: np.ndarray

    def mean_error(self, ensemble: np.ndarray) -> float:
        """``max_i |L^{-1} (mean(ensemble) - mean)|_i`` with ``cov = L L^T``: the error in posterior stds."""
        chol = np.linalg.cholesky(self.cov)
        return float(np.max(np.abs(np.linalg.solve(chol, ensemble.mean(axis=0) - self.mean))))

    def cov_error(self, ensemble: np.ndarray) -> float:
        """``max_ij |L^{-1} C_ens L^{-T} - I|_ij``: zero iff the sample covariance equals ``cov``."""
        chol = np.linalg.cholesky(self.cov)
        sample = np.cov(ensemble, rowvar=False)
        whitened = np.linalg.solve(chol, np.linalg.solve(chol, sample).T)
        return float(np.max(np.abs(whitened - np.eye(len(self.mean)))))


@dataclass(frozen=True)
class LinearGaussian:
    """``y = G theta + eps``, ``eps ~ N(0, diag(obs_std**2))``, prior ``theta ~ N(prior_mean, prior_cov)``.

    ``G`` is ``(n, p)``, ``y`` and ``obs_std`` are ``(n,)``.
    """
    G: np.ndarray
    y: np.ndarray
    obs_std: np.ndarray
    prior_mean: np.ndarray
    prior_cov: np.ndarray

    @staticmethod
    def forward(ensemble: np.ndarray, G: np.ndarray) -> np.ndarray:
        """Forward model linear in its parameters: ``(N, p), (d, p) -> (N, d)``, row j is ``G theta_j``.

        The trainers receive the design matrix ``G`` as their ``X``, so row ``i`` of
        ``X`` produces observation ``y_i`` (an EnKF batch is a block of rows of ``G``).
        """
        return ensemble @ G.T

    def posterior(self, prior_mean=None, prior_cov=None, obs_std=None) -> Posterior:
        """Closed form in information (precision) form, independent of the Kalman-gain form::

            P = (C0^{-1} + G^T R^{-1} G)^{-1},   m = P (C0^{-1} m0 + G^T R^{-1} y)
        """
        m0 = self.prior_mean if prior_mean is None else prior_mean
        C0 = self.prior_cov if prior_cov is None else prior_cov
        sigma = self.obs_std if obs_std is None else obs_std
        precision = np.linalg.inv(C0) + self.G.T @ (self.G / sigma[:, None] ** 2)
        cov = np.linalg.inv(precision)
        cov = 0.5 * (cov + cov.T)
        mean = cov @ (np.linalg.solve(C0, m0) + self.G.T @ (self.y / sigma**2))
        return Posterior(mean, cov)

    def sample_prior(self, rng: np.random.Generator, n_members: int) -> np.ndarray:
        """I.i.d. prior draws, ``(n_members, p)``."""
        chol = np.linalg.cholesky(self.prior_cov)
        return self.prior_mean + rng.standard_normal((n_members, len(self.prior_mean))) @ chol.T

    def matched_prior(self, rng: np.random.Generator, n_members: int) -> np.ndarray:
        """A prior ensemble ``(n_members, p)`` whose sample mean and covariance (ddof=1)
        equal ``prior_mean`` and ``prior_cov`` up to round-off."""
        draws = rng.standard_normal((n_members, len(self.prior_mean)))
        draws -= draws.mean(axis=0)
        sample_chol = np.linalg.cholesky(draws.T @ draws / (n_members - 1))
        white = np.linalg.solve(sample_chol, draws.T).T  # sample covariance exactly I
        return self.prior_mean + white @ np.linalg.cholesky(self.prior_cov).T


def make_linear_gaussian(seed: int, n_params: int = 4, n_obs: int = 24) -> LinearGaussian:
    """A random, moderately informative linear-Gaussian problem with a correlated prior
    and heteroscedastic noise (posterior std is roughly 0.2 x prior std)."""
    rng = np.random.default_rng([seed, 7919])
    G = rng.standard_normal((n_obs, n_params))
    prior_mean = 0.5 * rng.standard_normal(n_params)
    root = np.eye(n_params) + 0.3 * rng.standard_normal((n_params, n_params))
    prior_cov = root @ root.T
    obs_std = rng.uniform(0.5, 1.5, n_obs)
    truth = prior_mean + np.linalg.cholesky(prior_cov) @ rng.standard_normal(n_params)
    y = G @ truth + obs_std * rng.standard_normal(n_obs)
    return LinearGaussian(G, y, obs_std, prior_mean, prior_cov)


@pytest.fixture
def linear_gaussian():
    """Factory ``linear_gaussian(seed, n_params=4, n_obs=24) -> LinearGaussian``."""
    return make_linear_gaussian


@dataclass(frozen=True)
class MLPProblem:
    """A 1-8-1 tanh net, a prior ensemble ``(N, p)`` and noisy sine data ``x (n, 1)``, ``y (n, 1)``."""
    model: datrain.MLP
    ensemble: np.ndarray
    x: np.ndarray
    y: np.ndarray
    obs_std: float


@pytest.fixture
def mlp_problem() -> MLPProblem:
    model = datrain.MLP(1, (8,), 1, activation="tanh")
    data = datrain.datasets.make_dataset("sine", n_train=23, n_test=5, noise_std=0.1, rng=11)
    ensemble = model.sample_prior(40, rng=12, std=0.5)
    return MLPProblem(model, ensemble, data.x_train, data.y_train, 0.1)
