"""Side-by-side timing and a description of the machine the numbers come from."""
from __future__ import annotations

import ctypes
import gc
import os
import platform
import time
from typing import Callable

import numpy as np


def best_times(functions: dict[str, Callable[[], object]], repeat: int = 15,
               min_seconds: float = 0.005) -> dict[str, float]:
    """Best-of-``repeat`` seconds per call of each function, timed in interleaved rounds.

    As in :mod:`timeit`, one measurement loops ``number`` calls, with ``number``
    chosen so that it lasts at least ``min_seconds``, and the garbage collector is
    off while timing; the minimum over rounds is the least disturbed estimate.
    Every round times all the functions one after the other, so that varying load
    from other processes hits each of them alike and their ratios stay fair.
    """
    numbers = {name: _calls_per_measurement(f, min_seconds) for name, f in functions.items()}
    best = dict.fromkeys(functions, float("inf"))
    collecting = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            for name, f in functions.items():
                number = numbers[name]
                start = time.perf_counter()
                for _ in range(number):
                    f()
                best[name] = min(best[name], (time.perf_counter() - start) / number)
    finally:
        if collecting:
            gc.enable()
    return best


def _calls_per_measurement(f: Callable[[], object], min_seconds: float) -> int:
    """Smallest ``number`` in 1, 2, 5, 10, 20, ... whose loop takes ``min_seconds`` (warms ``f`` up)."""
    f()
    number = 1
    while True:
        for factor in (1, 2, 5):
            count = number * factor
            start = time.perf_counter()
            for _ in range(count):
                f()
            if time.perf_counter() - start >= min_seconds:
                return count
        number *= 10


def describe_machine(pinned: dict[str, str]) -> list[str]:
    """Header lines: CPU, load, library versions, BLAS build and runtime configuration."""
    import scipy

    lines = [
        f"CPU: {_cpu_model()}, {os.cpu_count()} logical cores; load average "
        f"{', '.join(f'{v:.1f}' for v in os.getloadavg())} (other processes share the machine)",
        f"Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}",
        "Threads pinned before importing numpy: " + ", ".join(f"{k}={v}" for k, v in pinned.items())
        + f"; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}",
    ]
    return lines + _blas_lines()


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _blas_lines() -> list[str]:
    """BLAS libraries in use: threadpoolctl's report if installed, else numpy's build
    configuration plus the runtime core type and thread count read from each loaded OpenBLAS."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        pass
    else:
        return [f"BLAS (threadpoolctl): {lib.get('internal_api')} {lib.get('version')}, "
                f"core {lib.get('architecture')}, {lib.get('num_threads')} thread(s), {lib.get('filepath')}"
                for lib in threadpool_info()]
    build = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    lines = [f"BLAS (numpy build): {build.get('name')} {build.get('version')}; "
             f"{' '.join(str(build.get('openblas configuration', '')).split())}"]
    for path in _loaded_openblas_paths():
        lines.append(f"BLAS (runtime): {os.path.basename(path)}: {_openblas_runtime(path)}")
    return lines


def _loaded_openblas_paths() -> list[str]:
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
    except OSError:
        return []
    return sorted(paths)


def _openblas_runtime(path: str) -> str:
    """Core type and thread count reported by the OpenBLAS at ``path`` (scipy-openblas or plain symbols)."""
    lib = ctypes.CDLL(path)
    for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "64_"), ("openblas", "")):
        try:
            corename = getattr(lib, f"{prefix}_get_corename{suffix}")
            threads = getattr(lib, f"{prefix}_get_num_threads{suffix}")
        except AttributeError:
            continue
        corename.restype = ctypes.c_char_p
        return f"core {corename().decode()}, {threads()} thread(s)"
    return "runtime query not supported"
