"""Online ensemble Kalman filter for parameter estimation (Evensen 2009, ch. 9)."""
from __future__ import annotations

import numpy as np

from datrain.esmda import draw_perturbations
from datrain.forward_model import ForwardModel, evaluate
from datrain.history import Callback, Recorder, TrainResult
from datrain.update import kalman_update
from datrain.validation import as_generator, check_da_inputs, check_positive_int


def enkf(forward: ForwardModel, ensemble, X, y, obs_std, batch_size: int = 1, epochs: int = 1,
         rng=None, *, inflation: float = 1.0, param_noise: float = 0.0, shuffle: bool = False,
         record_every: int = 1, perturbations: str = "random",
         callback: Callback | None = None) -> TrainResult:
    """Train by a sequential EnKF: the rows of ``(X, y)`` arrive as a stream of batches.

    Each batch ``B`` is assimilated once per epoch with the plain (``alpha = 1``)
    update of :mod:`datrain.update`, using only ``(X[B], y[B])``. For a linear
    model and one epoch this equals the one-shot ensemble smoother for any
    partition of the data. Before each update, optionally:

    * multiplicative inflation ``x_j <- mean + inflation (x_j - mean)``;
    * additive parameter noise ``x_j <- x_j + param_noise * N(0, I)``,

    both off by default; they keep the spread from collapsing over several epochs.

    Parameters
    ----------
    forward, ensemble, X, y, obs_std, rng, perturbations, callback : as in :func:`datrain.esmda`.
    batch_size : rows per update (the last batch may be smaller).
    epochs : passes over the stream.
    shuffle : reorder the rows at every epoch (with ``rng``); off means a true stream.
    record_every : record the history every this many updates (and after each epoch).

    Cost: ``epochs * N * n_samples`` forward evaluations. The history's
    ``train_rmse`` needs a full-data forward run, which is monitoring only and not counted.
    """
    ensemble, X, y, obs_std = check_da_inputs(ensemble, X, y, obs_std)
    batch_size = check_positive_int("batch_size", batch_size)
    epochs = check_positive_int("epochs", epochs)
    record_every = check_positive_int("record_every", record_every)
    if not (np.isfinite(inflation) and inflation >= 1.0):
        raise ValueError(f"inflation={inflation!r} must be a finite number >= 1")
    if not (np.isfinite(param_noise) and param_noise >= 0.0):
        raise ValueError(f"param_noise={param_noise!r} must be a finite number >= 0")
    rng = as_generator(rng)
    n_samples, n_members = X.shape[0], ensemble.shape[0]
    recorder = Recorder(y, callback)

    def monitor(step, n_forward):
        recorder.pause_clock()  # the full-data forward run below is monitoring only
        predictions = evaluate(forward, ensemble, X, y.size)
        return recorder.record(step, ensemble, predictions, n_forward, alpha=1.0 if step else np.nan)

    if not monitor(0, 0):
        return recorder.result(ensemble)
    step, n_forward = 0, 0
    for _ in range(epochs):
        order = rng.permutation(n_samples) if shuffle else slice(None)
        X_epoch, y_epoch, std_epoch = X[order], y[order], obs_std[order]  # views unless shuffled
        for start in range(0, n_samples, batch_size):
            stop = min(start + batch_size, n_samples)
            if inflation != 1.0:
                ensemble = ensemble.mean(axis=0) + inflation * (ensemble - ensemble.mean(axis=0))
            if param_noise > 0.0:
                ensemble = ensemble + param_noise * rng.standard_normal(ensemble.shape).astype(ensemble.dtype)
            obs, sigma = y_epoch[start:stop].reshape(-1), std_epoch[start:stop].reshape(-1)
            predictions = evaluate(forward, ensemble, X_epoch[start:stop], obs.size)
            if not np.isfinite(predictions).all():
                recorder.mark_diverged(step + 1)
                break
            noise = draw_perturbations(perturbations, rng, ensemble, obs.size)
            ensemble = kalman_update(ensemble, predictions, obs, sigma, 1.0, noise)
            step += 1
            n_forward += n_members * (stop - start)
            last_of_epoch = stop == n_samples
            if (step % record_every == 0 or last_of_epoch) and not monitor(step, n_forward):
                return recorder.result(ensemble)
        if recorder.status != "ok":
            break
    return recorder.result(ensemble)
