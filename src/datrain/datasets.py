"""Synthetic regression problems of the paper, every setting a parameter.

Each generator returns a :class:`Dataset` with noisy training data and a
noise-free test grid. Registered names: ``sine``, ``mexican_hat``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from datrain.validation import as_generator, check_positive_int


@dataclass(frozen=True)
class Dataset:
    """``x_train (n_train, n_in)``, ``y_train`` noisy and ``f_train`` noise-free
    ``(n_train, 1)``; ``x_test (n_test, n_in)`` a regular grid with noise-free ``y_test (n_test, 1)``."""
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    f_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    noise_std: float


def sine_function(x: np.ndarray) -> np.ndarray:
    """``y = sin(x)`` for ``x (n, 1)``; returns ``(n, 1)``."""
    return np.sin(x[:, :1])


def mexican_hat_function(x: np.ndarray) -> np.ndarray:
    """2-D sinc ``z = sin(r) / r``, ``r = ||x||``, ``z = 1`` at ``r = 0``; ``x (n, 2)`` -> ``(n, 1)``."""
    r = np.linalg.norm(x, axis=1)
    return np.sinc(r / np.pi)[:, None]  # numpy's sinc is sin(pi t)/(pi t)


@dataclass(frozen=True)
class Problem:
    function: Callable[[np.ndarray], np.ndarray]
    n_in: int
    default_domain: tuple[float, float]


REGISTRY: dict[str, Problem] = {
    "sine": Problem(sine_function, 1, (-np.pi, np.pi)),
    "mexican_hat": Problem(mexican_hat_function, 2, (-10.0, 10.0)),
}


def test_grid(domain: tuple[float, float], n_test: int, n_in: int) -> np.ndarray:
    """Regular grid: ``n_test`` points in 1-D; ``n_test**2`` points (a square lattice) in 2-D."""
    axis = np.linspace(domain[0], domain[1], n_test)
    if n_in == 1:
        return axis[:, None]
    mesh = np.meshgrid(*([axis] * n_in), indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


def make_dataset(name: str, n_train: int, n_test: int, noise_std: float, rng=None,
                 domain: tuple[float, float] | None = None) -> Dataset:
    """Draw training inputs uniformly on ``domain**n_in`` and add ``N(0, noise_std**2)`` noise.

    ``n_test`` is the number of grid points per input axis. ``noise_std`` may be 0.
    """
    if name not in REGISTRY:
        raise ValueError(f"dataset name={name!r} is not one of {sorted(REGISTRY)}")
    problem = REGISTRY[name]
    n_train = check_positive_int("n_train", n_train)
    n_test = check_positive_int("n_test", n_test, minimum=2)
    if not (np.isfinite(noise_std) and noise_std >= 0):
        raise ValueError(f"noise_std={noise_std!r} must be a finite number >= 0")
    low, high = problem.default_domain if domain is None else map(float, domain)
    if not low < high:
        raise ValueError(f"domain={domain!r} must be (low, high) with low < high")
    rng = as_generator(rng)
    x_train = rng.uniform(low, high, size=(n_train, problem.n_in))
    f_train = problem.function(x_train)
    y_train = f_train + noise_std * rng.standard_normal(f_train.shape)
    x_test = test_grid((low, high), n_test, problem.n_in)
    return Dataset(name, x_train, y_train, f_train, x_test, problem.function(x_test), float(noise_std))
