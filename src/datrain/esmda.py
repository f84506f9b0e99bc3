"""Ensemble smoother with multiple data assimilation (Emerick & Reynolds 2013)."""
from __future__ import annotations

import numpy as np

from datrain.forward_model import ForwardModel, evaluate
from datrain.history import Callback, Recorder, TrainResult
from datrain.schedules import resolve_schedule
from datrain.update import kalman_update, moment_matched_perturbations, standard_normal_perturbations
from datrain.validation import as_generator, check_da_inputs

PERTURBATIONS = ("random", "moment_matched")


def draw_perturbations(kind: str, rng, ensemble: np.ndarray, n_obs: int) -> np.ndarray:
    """Standard-normal observation perturbations ``(N, n_obs)`` of the requested ``kind``."""
    if kind == "random":
        return standard_normal_perturbations(rng, (ensemble.shape[0], n_obs), ensemble.dtype)
    if kind == "moment_matched":
        return moment_matched_perturbations(rng, ensemble, n_obs)
    raise ValueError(f"perturbations={kind!r} is not one of {PERTURBATIONS}")


def esmda(forward: ForwardModel, ensemble, X, y, obs_std, alphas=4, rng=None, *,
          normalize: bool = True, perturbations: str = "random",
          callback: Callback | None = None) -> TrainResult:
    """Train by ESMDA: ``Na`` ensemble-smoother updates, each with all the data.

    Assimilation ``i`` applies the update of :mod:`datrain.update` with
    ``alpha_i``, using all ``(X, y)`` and freshly drawn perturbations
    ``D_i = y + sqrt(alpha_i) sigma E_i``. With ``sum 1/alpha_i = 1`` the result is exact
    for a linear-Gaussian model (Emerick & Reynolds 2013, eq. 6).

    Parameters
    ----------
    forward : callable ``forward(ensemble (N, p), X) -> (N, ...)``, matched against ``y.ravel()``.
    ensemble : (N, p) prior ensemble, N >= 2. Not modified; its dtype is kept.
    X : (n_samples, ...) inputs;  y : (n_samples, ...) observations.
    obs_std : scalar or one value per observation (``y.size``).
    alphas : int ``k`` (``k`` steps of ``alpha = k``), a sequence (rescaled so
        ``sum 1/alpha = 1`` unless ``normalize=False``), or ``"adaptive"`` for the
        data-misfit controller (:class:`datrain.schedules.DataMisfitController`).
    rng : seed or Generator for the perturbations.
    perturbations : "random" or "moment_matched" (exact sample moments, see
        :func:`datrain.update.moment_matched_perturbations`).
    callback : called with a :class:`datrain.history.StepInfo` after every step;
        a returned dict is added to the history.

    Cost: ``Na * N * n_samples`` forward evaluations; the forward run after the
    last update is for monitoring only and is not counted.
    """
    ensemble, X, y, obs_std = check_da_inputs(ensemble, X, y, obs_std)
    schedule = resolve_schedule(alphas, normalize)
    rng = as_generator(rng)
    observations, sigma = y.reshape(-1), obs_std.reshape(-1)
    n_members, n_obs = ensemble.shape[0], y.size
    cost_per_run = n_members * X.shape[0]
    recorder = Recorder(y, callback)

    predictions = evaluate(forward, ensemble, X, n_obs)
    if not recorder.record(0, ensemble, predictions, 0):
        return recorder.result(ensemble)
    fixed = isinstance(schedule, np.ndarray)
    step = 0
    while (step < len(schedule)) if fixed else not schedule.finished:
        alpha = schedule[step] if fixed else schedule.next_alpha(predictions, observations, sigma)
        noise = draw_perturbations(perturbations, rng, ensemble, n_obs)
        ensemble = kalman_update(ensemble, predictions, observations, sigma, alpha, noise)
        step += 1
        if (step == len(schedule)) if fixed else schedule.finished:
            recorder.pause_clock()  # the forward run after the last update is monitoring only
        predictions = evaluate(forward, ensemble, X, n_obs)
        if not recorder.record(step, ensemble, predictions, step * cost_per_run, alpha):
            break
    return recorder.result(ensemble)
