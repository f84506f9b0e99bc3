"""A fully connected feed-forward network evaluated for a whole ensemble at once.

Flat parameter layout
---------------------
All weights and biases of one network form a vector ``theta`` of length
``n_params``. Layer ``l`` maps ``a = sizes[l]`` inputs to ``b = sizes[l+1]``
outputs and owns the contiguous block ``theta[offsets[l]:offsets[l+1]]`` of
``(a + 1) * b`` values, read row-major as an ``(a + 1, b)`` matrix::

    block = [[W_00 ... W_0(b-1)],      # rows 0..a-1: W[i, j], input i -> unit j
             ...
             [W_(a-1)0 ...        ],
             [b_0  ...  b_(b-1)   ]]   # last row: the bias

so a layer computes ``z = [x, 1] @ block``. Hidden layers apply the
activation; the output layer is linear (regression).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from datrain.activations import get_activation
from datrain.validation import as_generator, check_finite, check_positive


class MLP:
    """Feed-forward network ``n_in -> hidden... -> n_out``.

    Parameters
    ----------
    n_in, n_out : int
        Input and output dimension.
    hidden : sequence of int
        Width of each hidden layer; must be non-empty for this class.
    activation : {"tanh", "sigmoid", "relu", "identity"}
        Activation of every hidden layer.
    """

    def __init__(self, n_in: int, hidden: Sequence[int] = (10,), n_out: int = 1,
                 activation: str = "tanh"):
        hidden = tuple(hidden)
        if len(hidden) == 0:
            raise ValueError("hidden=() must list at least one hidden layer width")
        for name, value in [("n_in", n_in), ("n_out", n_out)] + [
            (f"hidden[{i}]", h) for i, h in enumerate(hidden)
        ]:
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer")
        self.activation = get_activation(activation)
        self.sizes = (int(n_in), *map(int, hidden), int(n_out))
        blocks = [(a + 1) * b for a, b in zip(self.sizes[:-1], self.sizes[1:])]
        self.offsets = tuple(int(o) for o in np.concatenate([[0], np.cumsum(blocks)]))

    # ------------------------------------------------------------------ layout
    @property
    def n_params(self) -> int:
        return self.offsets[-1]

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    def __repr__(self) -> str:
        arch = "-".join(map(str, self.sizes))
        return f"MLP({arch}, activation={self.activation.name!r}, n_params={self.n_params})"

    def unflatten(self, theta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Split ``theta`` of shape ``(..., n_params)`` into ``[(W, b), ...]``.

        ``W`` has shape ``(..., a, b)`` and ``b`` shape ``(..., b)``; both are
        views into ``theta`` (no copy).
        """
        theta = np.asarray(theta)
        self._check_width(theta)
        lead = theta.shape[:-1]
        layers = []
        for l, (a, b) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            block = theta[..., self.offsets[l]:self.offsets[l + 1]].reshape(*lead, a + 1, b)
            layers.append((block[..., :a, :], block[..., a, :]))
        return layers

    def flatten(self, layers: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Inverse of :meth:`unflatten`: stack ``[(W, b), ...]`` into ``(..., n_params)``."""
        if len(layers) != self.n_layers:
            raise ValueError(f"layers has {len(layers)} entries, expected {self.n_layers}")
        parts = []
        for l, (W, b) in enumerate(layers):
            a, bw = self.sizes[l], self.sizes[l + 1]
            W, b = np.asarray(W), np.asarray(b)
            if W.shape[-2:] != (a, bw) or b.shape[-1:] != (bw,):
                raise ValueError(
                    f"layer {l}: W.shape={W.shape}, b.shape={b.shape}; expected (..., {a}, {bw}) and (..., {bw})"
                )
            block = np.concatenate([W, b[..., None, :]], axis=-2)
            parts.append(block.reshape(*block.shape[:-2], (a + 1) * bw))
        return np.concatenate(parts, axis=-1)

    # ------------------------------------------------------------ initialisers
    def init_params(self, rng=None, n_members: int | None = None, dtype=np.float64) -> np.ndarray:
        """Initial weights for gradient training; biases are zero.

        Glorot-uniform, ``W ~ U(-s, s)`` with ``s = sqrt(6 / (fan_in + fan_out))``,
        for tanh/sigmoid/identity; He-normal, ``W ~ N(0, 2 / fan_in)``, for relu.

        Returns ``(n_params,)``, or ``(n_members, n_params)`` independent
        networks when ``n_members`` is given (a deep ensemble).
        """
        rng = as_generator(rng)
        lead = () if n_members is None else (int(n_members),)
        theta = np.zeros(lead + (self.n_params,), dtype=dtype)
        for W, _ in self.unflatten(theta):
            fan_in, fan_out = W.shape[-2:]
            if self.activation.name == "relu":
                W[...] = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=W.shape)
            else:
                s = np.sqrt(6.0 / (fan_in + fan_out))
                W[...] = rng.uniform(-s, s, size=W.shape)
        return theta

    def sample_prior(self, n_members: int, rng=None, std=1.0, dtype=np.float64) -> np.ndarray:
        """Prior ensemble for data assimilation: ``theta_j ~ N(0, diag(std**2))``.

        ``std`` is a scalar or one value per parameter, shape ``(n_params,)``.
        Returns ``(n_members, n_params)``.
        """
        if not isinstance(n_members, (int, np.integer)) or n_members < 2:
            raise ValueError(f"n_members={n_members!r} must be an integer >= 2")
        std = np.asarray(std, dtype=float)
        check_positive("std", std)
        if std.ndim and std.shape != (self.n_params,):
            raise ValueError(f"std has shape {std.shape}; expected a scalar or ({self.n_params},)")
        rng = as_generator(rng)
        return (rng.standard_normal((n_members, self.n_params)) * std).astype(dtype, copy=False)

    # ----------------------------------------------------------------- forward
    def forward(self, ensemble: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Network outputs for every member.

        Parameters
        ----------
        ensemble : (n_members, n_params) or (n_params,)
        X : (n_samples, n_in)

        Returns
        -------
        (n_members, n_samples, n_out), or (n_samples, n_out) for a single
        parameter vector. All members are evaluated together: the first layer
        is one GEMM ``[X, 1] @ B`` with ``B`` of shape ``(n_in + 1, n_members * width)``.
        """
        return self._propagate(ensemble, X, keep=False)[-1]

    def _propagate(self, ensemble, X, keep):
        """Forward pass; with ``keep`` also return what back-propagation needs.

        Returns ``[output]``, or ``(x1, hidden, output)`` when ``keep``: ``x1 = [X, 1]``
        ``(n_samples, n_in + 1)``; ``hidden[l]`` the activated output of hidden layer
        ``l``, sample-major ``(n_samples, n_members, width)``; ``output`` as in :meth:`forward`.
        The hidden arrays are written in place (one GEMM, one in-place activation
        each), so the cost is close to one pass of the activation over them.
        """
        ensemble = np.asarray(ensemble)
        single = ensemble.ndim == 1
        theta = ensemble[None, :] if single else ensemble
        self._check_width(theta)
        X = self._check_inputs(X, theta.dtype)
        n_members, n_samples = theta.shape[0], X.shape[0]
        sizes, offsets, activate = self.sizes, self.offsets, self.activation.apply

        # First layer: fold the bias into one GEMM over all members.
        a, b = sizes[0], sizes[1]
        weights_all = theta[:, : offsets[1]].reshape(n_members, a + 1, b).transpose(1, 0, 2)
        x1 = np.empty((n_samples, a + 1), dtype=theta.dtype)
        x1[:, :a] = X
        x1[:, a] = 1.0
        h = (x1 @ weights_all.reshape(a + 1, n_members * b)).reshape(n_samples, n_members, b)
        hidden = []
        for l in range(1, self.n_layers):
            activate(h, out=h)  # hidden activation, in place
            hidden.append(h)
            a, b = sizes[l], sizes[l + 1]
            block = theta[:, offsets[l]:offsets[l + 1]].reshape(n_members, a + 1, b)
            # Per member (n_samples, a) @ (a, b); the product comes back member-major (n, s, b).
            h = np.matmul(h.transpose(1, 0, 2), block[:, :a, :]).transpose(1, 0, 2)
            h += block[:, a, :]  # bias, (n_members, b) broadcast over samples
        output = np.ascontiguousarray(h.transpose(1, 0, 2))  # (n, s, out); no copy for the last layer
        if single:
            output = output[0]
        if keep:
            return x1, hidden, output
        return [output]

    # ---------------------------------------------------------------- gradient
    def loss_and_gradient(self, ensemble: np.ndarray, X: np.ndarray, y: np.ndarray):
        """Mean-squared error and its gradient, by hand-written back-propagation.

        ``L_j = (1 / (n_samples * n_out)) * sum_s,o (f_j(x_s)_o - y_so)**2``

        Parameters
        ----------
        ensemble : (n_members, n_params) or (n_params,)
        X : (n_samples, n_in);  y : (n_samples, n_out) or (n_samples,)

        Returns
        -------
        loss : (n_members,) or scalar;  gradient : same shape as ``ensemble``.
        """
        ensemble = np.asarray(ensemble)
        single = ensemble.ndim == 1
        theta = ensemble[None, :] if single else ensemble
        x1, hidden, prediction = self._propagate(theta, X, keep=True)
        y = np.asarray(y, dtype=theta.dtype).reshape(prediction.shape[1], -1)
        residual = prediction - y  # (n, s, out)
        n_terms = residual.shape[1] * residual.shape[2]
        loss = np.einsum("nso,nso->n", residual, residual) / n_terms

        grad = np.zeros_like(theta)
        grad_layers = self.unflatten(grad)
        weights = self.unflatten(theta)
        delta = (2.0 / n_terms) * residual.transpose(1, 0, 2)  # dL/dz, (s, n, out)
        for l in range(self.n_layers - 1, -1, -1):
            gW, gb = grad_layers[l]
            if l == 0:
                full = np.einsum("sa,snb->nab", x1, delta)
                gW[...] = full[:, :-1, :]
                gb[...] = full[:, -1, :]
            else:
                a_prev = hidden[l - 1]  # activated output of layer l-1, (s, n, a)
                gW[...] = np.einsum("sna,snb->nab", a_prev, delta)
                gb[...] = delta.sum(axis=0)
                delta = np.einsum("snb,nab->sna", delta, weights[l][0])
                delta *= self.activation.derivative_from_output(a_prev)
        if single:
            return loss[0], grad[0]
        return loss, grad

    # ------------------------------------------------------------- validation
    def _check_width(self, theta):
        if theta.shape[-1] != self.n_params:
            raise ValueError(
                f"parameter array has shape {theta.shape}; its last axis must be n_params={self.n_params}"
            )

    def _check_inputs(self, X, dtype):
        X = np.asarray(X)
        if X.ndim == 1 and self.sizes[0] == 1:
            X = X[:, None]
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(f"X has shape {X.shape}; expected (n_samples, {self.sizes[0]})")
        return X.astype(dtype, copy=False)
