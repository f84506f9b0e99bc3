"""Element-wise activation functions and their derivatives.

Each activation is registered with two functions:

* ``apply(z, out=z)`` evaluates ``a = g(z)``, in place when ``out`` is ``z``;
* ``derivative_from_output(a)`` returns ``g'(z)`` written in terms of the
  activation *output* ``a`` (so back-propagation does not need to keep ``z``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Activation:
    name: str
    apply: Callable[..., np.ndarray]
    derivative_from_output: Callable[[np.ndarray], np.ndarray]


def _sigmoid(z, out=None):
    # 1/(1+exp(-z)) written as 0.5*(1+tanh(z/2)): stable for large |z|.
    out = np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def _identity(z, out=None):
    if out is None:
        return z.copy()
    if out is not z:
        out[...] = z
    return out


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation("tanh", np.tanh, lambda a: 1.0 - a * a),
    "sigmoid": Activation("sigmoid", _sigmoid, lambda a: a * (1.0 - a)),
    "relu": Activation("relu", lambda z, out=None: np.maximum(z, 0, out=out),
                       lambda a: (a > 0).astype(a.dtype)),
    "identity": Activation("identity", _identity, lambda a: np.ones_like(a)),
}


def get_activation(name: str) -> Activation:
    """Look up an activation by name; raises ValueError naming the bad value."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"activation={name!r} is not one of {sorted(ACTIVATIONS)}"
        ) from None
