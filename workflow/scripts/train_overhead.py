"""Share of the train jobs' time spent outside training (kernel start-up, imports, I/O, plots).

Reads every benchmarks/train/{case}/{method}/seed{seed}.tsv (Snakemake's per-job wall
time ``s`` and CPU time ``cpu_time`` of the job's process tree) and the matching run
file's recorded training time (last ``wall_time``; monitoring excluded), and prints the
totals. With more jobs than cores the wall times include waiting for a core; the CPU
times do not. Run from the workflow directory after a pipeline run:

    python workflow/scripts/train_overhead.py
"""
import sys
from pathlib import Path

import pandas as pd

from datrain import io as dio


def overhead(root: Path) -> pd.DataFrame:
    """One row per train job: ``job_s``/``cpu_s`` (benchmark wall/CPU time), ``train_s`` (training time)."""
    rows = []
    for tsv in sorted((root / "benchmarks" / "train").glob("*/*/seed*.tsv")):
        case, method, seed = tsv.parent.parent.name, tsv.parent.name, tsv.stem
        run = dio.read_netcdf(root / "results" / "runs" / case / method / f"{seed}.nc")
        train_s = float(run["wall_time"].isel(iteration=-1).item()) if run.sizes["iteration"] else 0.0
        benchmark = pd.read_csv(tsv, sep="\t").iloc[-1]
        rows.append({"case": case, "method": method, "seed": seed, "job_s": float(benchmark["s"]),
                     "cpu_s": float(benchmark["cpu_time"]), "train_s": train_s})
    return pd.DataFrame(rows)


def main(root: Path) -> None:
    jobs = overhead(root)
    if jobs.empty:
        sys.exit(f"no benchmark files under {root / 'benchmarks' / 'train'}")
    total, cpu, training = jobs["job_s"].sum(), jobs["cpu_s"].sum(), jobs["train_s"].sum()
    print(jobs.groupby(["case", "method"])[["job_s", "cpu_s", "train_s"]].mean().round(2).to_string())
    print(f"\n{len(jobs)} train jobs: {total:.1f} s job wall time, {cpu:.1f} s CPU time, {training:.1f} s training.")
    print(f"Outside training (kernel start-up, imports, monitoring, I/O, plots): {1 - training / total:.1%} of "
          f"job wall time, {1 - training / cpu:.1%} of CPU time.")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd())
