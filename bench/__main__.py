"""``python -m bench``: pin BLAS/OpenMP to one thread, then run every comparison.

The thread variables must be set before numpy is imported, so this module sets
them first and imports the benchmark code afterwards. The pipeline trains with
``threads: 1``, and these numbers describe that setting.
"""
import os

PINNED_THREADS = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
os.environ.update(PINNED_THREADS)

from bench.run import main  # noqa: E402  (after the thread pinning, on purpose)

main(pinned=PINNED_THREADS)
