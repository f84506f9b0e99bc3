"""Gradient baselines: plain (stochastic) gradient descent and Adam.

Both minimise the mean-squared error of a differentiable model (anything with
``forward(params, X)`` and ``loss_and_gradient(params, X, y)``, such as
:class:`datrain.MLP`). ``params`` may be one network ``(p,)`` or several
independent networks ``(N, p)`` trained side by side (a deep ensemble).
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

from datrain.history import Callback, Recorder, TrainResult
from datrain.validation import as_generator, check_data, check_positive, check_positive_int

BACKWARD_COST = 2  # a backward pass costs two forward evaluations


class DifferentiableModel(Protocol):
    def forward(self, params: np.ndarray, X: np.ndarray) -> np.ndarray: ...
    def loss_and_gradient(self, params: np.ndarray, X: np.ndarray, y: np.ndarray): ...


class SGD:
    """``theta <- theta - lr * g``."""

    def __init__(self, learning_rate: float):
        check_positive("learning_rate", learning_rate)
        self.learning_rate = learning_rate

    def step(self, params: np.ndarray, grad: np.ndarray) -> np.ndarray:
        return params - self.learning_rate * grad


class Adam:
    """Adam (Kingma & Ba 2015, Algorithm 1) with bias-corrected moments::

        m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2
        theta <- theta - lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
    """

    def __init__(self, learning_rate: float = 1e-2, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8):
        check_positive("learning_rate", learning_rate)
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name}={beta!r} must be in [0, 1)")
        self.learning_rate, self.beta1, self.beta2, self.eps = learning_rate, beta1, beta2, eps
        self._m = self._v = None
        self._t = 0

    def step(self, params: np.ndarray, grad: np.ndarray) -> np.ndarray:
        if self._m is None:
            self._m, self._v = np.zeros_like(params), np.zeros_like(params)
        self._t += 1
        self._m = self.beta1 * self._m + (1 - self.beta1) * grad
        self._v = self.beta2 * self._v + (1 - self.beta2) * grad * grad
        m_hat = self._m / (1 - self.beta1 ** self._t)
        v_hat = self._v / (1 - self.beta2 ** self._t)
        return params - self.learning_rate * m_hat / (np.sqrt(v_hat) + self.eps)


def train_by_gradient(model: DifferentiableModel, params, X, y, optimizer, epochs: int,
                      batch_size: int | None = None, rng=None, record_every: int = 1,
                      callback: Callback | None = None) -> TrainResult:
    """Loop over epochs and mini-batches, applying ``optimizer.step`` to the MSE gradient.

    ``params``: (p,) or (N, p); the result's ``ensemble`` is always (N, p).
    ``batch_size=None`` is full-batch; otherwise rows are reshuffled every epoch with ``rng``.
    Each mini-batch of ``b`` rows costs ``N * b * (1 + BACKWARD_COST)`` evaluations.
    The history is recorded every ``record_every`` epochs (and after the last);
    its full-data ``train_rmse`` is monitoring, not counted.
    """
    params = np.asarray(params)
    ensemble = params[None, :] if params.ndim == 1 else params
    if not np.issubdtype(ensemble.dtype, np.floating):
        ensemble = ensemble.astype(float)
    X, y = check_data(X, y, ensemble.dtype)
    epochs = check_positive_int("epochs", epochs)
    record_every = check_positive_int("record_every", record_every)
    n_samples, n_members = X.shape[0], ensemble.shape[0]
    batch_size = n_samples if batch_size is None else check_positive_int("batch_size", batch_size)
    rng = as_generator(rng)
    recorder = Recorder(y, callback)

    def monitor(epoch, n_forward):
        recorder.pause_clock()  # the full-data forward run below is monitoring only
        predictions = np.asarray(model.forward(ensemble, X)).reshape(n_members, -1)
        return recorder.record(epoch, ensemble, predictions, n_forward)

    if not monitor(0, 0):
        return recorder.result(ensemble)
    n_forward = 0
    for epoch in range(1, epochs + 1):
        order = np.arange(n_samples) if batch_size >= n_samples else rng.permutation(n_samples)
        for start in range(0, n_samples, batch_size):
            rows = order[start:start + batch_size]
            _, grad = model.loss_and_gradient(ensemble, X[rows], y[rows])
            ensemble = optimizer.step(ensemble, grad)
            n_forward += n_members * rows.size * (1 + BACKWARD_COST)
        if (epoch % record_every == 0 or epoch == epochs) and not monitor(epoch, n_forward):
            break
    return recorder.result(ensemble)


def gd(model: DifferentiableModel, params, X, y, learning_rate: float, epochs: int,
       batch_size: int | None = None, rng=None, record_every: int = 1,
       callback: Callback | None = None) -> TrainResult:
    """Plain gradient descent ``theta <- theta - lr * grad L`` (the paper's baseline).

    Full batch by default; ``batch_size`` gives mini-batch SGD. See :func:`train_by_gradient`.
    """
    return train_by_gradient(model, params, X, y, SGD(learning_rate), epochs, batch_size, rng,
                             record_every, callback)


def adam(model: DifferentiableModel, params, X, y, learning_rate: float = 1e-2, epochs: int = 1000,
         batch_size: int | None = None, rng=None, record_every: int = 1,
         callback: Callback | None = None, beta1: float = 0.9, beta2: float = 0.999,
         eps: float = 1e-8) -> TrainResult:
    """Adam, the baseline a practitioner would use. See :class:`Adam` and :func:`train_by_gradient`."""
    return train_by_gradient(model, params, X, y, Adam(learning_rate, beta1, beta2, eps), epochs,
                             batch_size, rng, record_every, callback)
