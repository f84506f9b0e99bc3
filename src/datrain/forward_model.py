"""Calling a user's forward model and checking what it returns."""
from __future__ import annotations

from typing import Callable

import numpy as np

ForwardModel = Callable[[np.ndarray, np.ndarray], np.ndarray]


def evaluate(forward: ForwardModel, ensemble: np.ndarray, X: np.ndarray, n_obs: int) -> np.ndarray:
    """``forward(ensemble, X)`` flattened to ``(n_members, n_obs)``.

    The model must return an array whose first axis is the member; its other
    axes are flattened in C order and matched against ``y.ravel()``.
    Output is cast to the ensemble's dtype.
    """
    out = np.asarray(forward(ensemble, X))
    n_members = ensemble.shape[0]
    if out.ndim < 1 or out.shape[0] != n_members or out[0].size != n_obs:
        raise ValueError(
            f"forward(ensemble, X) returned shape {out.shape}; expected ({n_members}, ...) "
            f"with {n_obs} values per member to match y"
        )
    return out.reshape(n_members, n_obs).astype(ensemble.dtype, copy=False)
