"""Rule `sweep_run`: train one (sweep, grid point, case, method) for every sweep seed.

Each seed is one run exactly as notebooks/train.ipynb does it -- the same
datrain.experiment calls on the run resolved by datrain.sweeps.resolve_point --
without papermill (a kernel start per run would cost more than the training).
The runs are combined into one file with dims (case, method, seed), like a
slice of the summary cube, and written atomically.
"""
import logging

import datrain
from datrain import experiment
from datrain import io as dio

from joblog import redirect_to_log


def train_run(run: dict, dataset_path, rule: str):
    """One run file (an xarray Dataset) for the resolved ``run``: the notebook's calls, minus the plots."""
    data = dio.load_dataset(dataset_path)
    model = experiment.build_model(run, data)
    rngs = datrain.seeding.streams(run["base_seed"], run["case"], run["seed"])
    initial = experiment.initial_ensemble(model, run["trainer"], rngs["init"])
    result = experiment.train(model, initial, data, run["trainer"], rngs["perturbation"],
                              callback=experiment.Monitor(model, data))
    final = experiment.evaluate_final(model, result, data, run["coverage_levels"])
    attrs = dio.provenance(rule=rule, config_hash=dio.config_sha256(run), parameters=run,
                           seeds={"base_seed": run["base_seed"], "seed": run["seed"],
                                  "streams": "datrain.seeding.streams(base_seed, case, seed): init, perturbation"})
    return dio.run_to_xarray(run["case"], run["method"], run["seed"], experiment.history_arrays(result), final,
                             experiment.run_info(model, run["trainer"], result), data, attrs)


def main(smk):
    redirect_to_log(smk.log[0])
    job = smk.params.job
    runs = []
    for run in job["runs"]:
        runs.append(train_run(run, smk.input.dataset, smk.rule))
        logging.info("%s %s %s/%s seed %d: status %s, test RMSE %.4g", job["sweep"], job["point"], run["case"],
                     run["method"], run["seed"], runs[-1]["status"].item(), runs[-1]["final_test_rmse"].item())
    expected = [(run["case"], run["method"], run["seed"]) for run in job["runs"]]
    seeds = {"base_seed": job["runs"][0]["base_seed"], "seeds": [run["seed"] for run in job["runs"]]}
    attrs = dio.provenance(rule=smk.rule, config_hash=dio.config_sha256(job), seeds=seeds, parameters=job)
    dio.write_netcdf(dio.combine_runs(runs, expected, attrs), smk.output.run)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 (injected by Snakemake)
