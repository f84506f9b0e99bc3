"""Small statistics over seeds: mean with a Student-t confidence interval."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Interval:
    """Mean of ``n`` finite values and its two-sided ``level`` t-interval (NaN bounds when n < 2)."""
    mean: float
    low: float
    high: float
    n: int


def mean_ci(values, level: float = 0.95) -> Interval:
    """``mean ± t_{(1+level)/2, n-1} * s / sqrt(n)`` over the finite entries of ``values``."""
    values = np.asarray(values, dtype=float).ravel()
    values = values[np.isfinite(values)]
    n = values.size
    if n == 0:
        return Interval(np.nan, np.nan, np.nan, 0)
    mean = float(values.mean())
    if n < 2:
        return Interval(mean, np.nan, np.nan, 1)
    half = stats.t.ppf((1 + level) / 2, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)
