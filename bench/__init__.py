"""Performance comparisons for datrain (issue 2), printed as one Markdown table.

Run from the repository root with ``python -m bench`` (``make bench``). Everything is
measured side by side in one process, with BLAS pinned to one thread, and reported
as ratios; see :mod:`bench.run` for the rows and :mod:`bench.timing` for the method.
"""
