"""Random streams keyed on (base seed, case, seed), never on job order.

All methods of one (case, seed) get the same ``data`` and ``init`` streams, so
comparisons between methods are paired; each method gets its own
``perturbation`` stream (observation noise, mini-batch order).
"""
from __future__ import annotations

import zlib

import numpy as np

STREAMS = ("data", "init", "perturbation")


def case_key(case: str) -> int:
    """A stable 32-bit integer for a case name (CRC-32; Python's hash() is salted)."""
    return zlib.crc32(case.encode("utf-8"))


def streams(base_seed: int, case: str, seed: int) -> dict[str, np.random.Generator]:
    """Independent generators ``{"data", "init", "perturbation"}`` for one (case, seed)."""
    for name, value in (("base_seed", base_seed), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name}={value!r} must be a non-negative integer")
    root = np.random.SeedSequence([int(base_seed), case_key(case), int(seed)])
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, root.spawn(len(STREAMS)))}
