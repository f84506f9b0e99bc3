"""Rule `train`: render notebooks/train.ipynb for one (case, method, seed) with papermill.

The kernel is `python3` run by this interpreter (the one running Snakemake), so the
notebook sees the same environment; the rendered notebook is the job's log.
"""
import json
import sys
from pathlib import Path

import papermill
from jupyter_client.kernelspec import KernelSpecManager

from joblog import redirect_to_log

KERNEL = "python3"
START_TIMEOUT = 300  # seconds; several kernels start at once on a busy 2-core machine


def notebook_parameters(run: dict, dataset_path, output_path, rule: str) -> dict:
    """Papermill parameters of one run: literals only (lists and dicts as JSON strings)."""
    return {
        "dataset_path": str(dataset_path),
        "output_path": str(output_path),
        "case": run["case"],
        "method": run["method"],
        "seed": int(run["seed"]),
        "base_seed": int(run["base_seed"]),
        "dataset_json": json.dumps(run["dataset"], sort_keys=True),
        "model_json": json.dumps(run["model"], sort_keys=True),
        "trainer_json": json.dumps(run["trainer"], sort_keys=True),
        "coverage_levels_json": json.dumps(run["coverage_levels"]),
        "rule": rule,
    }


def check_kernel():
    """The `python3` kernel must start with this interpreter (jupyter_client maps a bare `python` to it)."""
    argv0 = KernelSpecManager().get_kernel_spec(KERNEL).argv[0]
    bare = {"python", f"python{sys.version_info[0]}", f"python{sys.version_info[0]}.{sys.version_info[1]}"}
    if argv0 not in bare and Path(argv0).resolve() != Path(sys.executable).resolve():
        raise RuntimeError(f"kernel {KERNEL!r} starts {argv0!r}, not this interpreter {sys.executable!r}")


def main(smk):
    console = redirect_to_log(smk.log.stderr)
    check_kernel()
    parameters = notebook_parameters(smk.params.run, smk.input.dataset, smk.output.run, smk.rule)
    try:
        papermill.execute_notebook(smk.input.notebook, smk.log.notebook, parameters=parameters,
                                   kernel_name=KERNEL, start_timeout=START_TIMEOUT, progress_bar=False,
                                   log_output=False)
    except papermill.PapermillExecutionError as error:
        message = (f"notebook for {parameters['case']}/{parameters['method']}/seed{parameters['seed']} failed "
                   f"({error.ename}: {error.evalue}); the traceback is in the rendered notebook {smk.log.notebook}")
        print(message, file=console)  # on the console too, not only in the log
        raise RuntimeError(message) from None


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 (injected by Snakemake)
