"""Run a command and record its wall time in results/timing/{name}.json (read by readme_results.py).

    python workflow/scripts/timed_run.py default -- .venv/bin/snakemake --cores 8
    python workflow/scripts/timed_run.py sweeps -- .venv/bin/snakemake --cores 8 sweeps

The JSON holds the command, its exit code, the wall time in seconds, the number of
CPUs, the 1-minute load average before the run (other work on the machine inflates
the time) and the UTC finish time. Exits with the command's exit code.
"""
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path


def main(argv):
    if len(argv) < 3 or argv[1] != "--" or not argv[0].isidentifier():
        sys.exit("usage: timed_run.py NAME -- COMMAND [ARG...]   (NAME: letters, digits, underscores)")
    name, command = argv[0], argv[2:]
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    returncode = subprocess.call(command)
    wall = time.perf_counter() - start
    record = {"name": name, "command": " ".join(command), "returncode": returncode, "wall_seconds": round(wall, 1),
              "cpus": os.cpu_count(), "load_average_before": round(load_before, 2),
              "finished_utc": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    path = Path("results") / "timing" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"{name}: {wall:.1f} s wall time (exit code {returncode}); recorded in {path}", file=sys.stderr)
    return returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
