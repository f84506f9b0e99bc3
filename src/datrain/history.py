"""Per-step records shared by every trainer, and the result object they return."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from datrain.metrics import rmse


@dataclass(frozen=True)
class StepInfo:
    """What a callback sees after each recorded step.

    ``ensemble`` is ``(n_members, n_params)`` and read-only; ``n_forward`` is the
    cumulative training cost in forward-equivalent evaluations (member x sample,
    a backward pass counting 2).
    """
    step: int
    ensemble: np.ndarray
    n_forward: int
    alpha: float


Callback = Callable[[StepInfo], Optional[dict]]


@dataclass
class TrainResult:
    """Outcome of a trainer.

    Attributes
    ----------
    ensemble : (n_members, n_params) final parameters (the last finite state if diverged).
    history : dict of 1-D arrays, one entry per recorded step:
        ``step``, ``alpha`` (effective inflation; NaN for gradient trainers and step 0),
        ``train_rmse`` (RMSE of the ensemble-mean prediction), ``param_spread``
        (``sqrt(trace(C) / n_params)`` of the ensemble covariance ``C``; NaN for one member),
        ``n_forward`` (cumulative training cost), ``wall_time`` (seconds of training,
        monitoring excluded), plus every key a callback returned.
    status : "ok" or "diverged".
    diverged_at : first step with NaN/inf parameters or predictions, else None.
    """
    ensemble: np.ndarray
    history: dict
    status: str = "ok"
    diverged_at: Optional[int] = None
    info: dict = field(default_factory=dict)

    @property
    def alphas(self) -> np.ndarray:
        """Effective inflation factors used, one per assimilation."""
        a = self.history["alpha"]
        return a[~np.isnan(a)]


def param_spread(ensemble: np.ndarray) -> float:
    """``sqrt(trace(C) / p)`` for the sample covariance ``C`` of ``ensemble (N, p)``."""
    n_members = ensemble.shape[0]
    if n_members < 2:
        return float("nan")
    anomalies = (ensemble - ensemble.mean(axis=0)).ravel()
    total = float(np.dot(anomalies, anomalies))  # one BLAS pass
    if not np.isfinite(total):  # huge but finite states: the overflow-safe scaled RMS
        return rmse(anomalies, 0.0) * float(np.sqrt(n_members / (n_members - 1)))
    return float(np.sqrt(total / ((n_members - 1) * ensemble.shape[1])))


class Recorder:
    """Collects the history; keeps a training clock that stops while monitoring.

    ``y`` is the full training target, ``(n_samples, ...)``; ``predictions``
    passed to :meth:`record` are ``(n_members, n_samples * n_out)``.
    """

    def __init__(self, y: np.ndarray, callback: Callback | None = None):
        self._y = np.asarray(y).reshape(-1)
        self._callback = callback
        self._rows: list[dict] = []
        self._elapsed = 0.0
        self._started: float | None = time.perf_counter()
        self.status = "ok"
        self.diverged_at: int | None = None
        self.last_finite: np.ndarray | None = None

    def pause_clock(self) -> None:
        """Stop the training clock (before monitoring-only work); :meth:`record` restarts it."""
        if self._started is not None:
            self._elapsed += time.perf_counter() - self._started
            self._started = None

    def record(self, step: int, ensemble: np.ndarray, predictions: np.ndarray,
               n_forward: int, alpha: float = float("nan")) -> bool:
        """Append one row. Returns False (and marks divergence) on NaN/inf."""
        self.pause_clock()
        finite = bool(np.all(np.isfinite(ensemble)) and np.all(np.isfinite(predictions)))
        if finite:
            self.last_finite = ensemble
            mean_prediction = predictions.mean(axis=0)
            row = {
                "step": step,
                "alpha": float(alpha),
                "train_rmse": rmse(mean_prediction, self._y),
                "param_spread": param_spread(ensemble),
                "n_forward": int(n_forward),
                "wall_time": self._elapsed,
            }
            if self._callback is not None:
                view = ensemble.view()
                view.flags.writeable = False
                extra = self._callback(StepInfo(step, view, int(n_forward), float(alpha)))
                row.update(extra or {})
            self._rows.append(row)
        else:
            self.mark_diverged(step)
        self._started = time.perf_counter()
        return finite

    def mark_diverged(self, step: int) -> None:
        """Record that the state became non-finite at ``step`` (between two recorded steps)."""
        self.status, self.diverged_at = "diverged", step

    def result(self, ensemble: np.ndarray, **info) -> TrainResult:
        keys = list(dict.fromkeys(k for row in self._rows for k in row))
        history = {
            k: np.array([row.get(k, np.nan) for row in self._rows],
                        dtype=int if k in ("step", "n_forward") else float)
            for k in keys
        }
        final = ensemble if self.status == "ok" else self.last_finite
        return TrainResult(final, history, self.status, self.diverged_at, info)
