"""Send everything a job prints to its Snakemake log (imported by the rule scripts of this directory)."""
import logging
import os
import sys
from typing import TextIO


def redirect_to_log(path) -> TextIO:
    """Point file descriptor 2 at ``path``: warnings, tracebacks and the stderr of child processes
    (e.g. the notebook kernel) end up in the rule's log. Returns a handle on the original stderr."""
    console = os.fdopen(os.dup(2), "w", buffering=1)
    log = open(path, "w", buffering=1)
    os.dup2(log.fileno(), 2)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, force=True)
    return console
