"""Rule `dataset`: write data/{case}.nc from the case's dataset settings."""
import logging

from datrain import experiment
from datrain import io as dio

from joblog import redirect_to_log


def main(smk):
    redirect_to_log(smk.log[0])
    spec = smk.params.dataset
    data = experiment.make_case_dataset(spec["case"], spec["dataset"], spec["base_seed"])
    seeds = {"base_seed": spec["base_seed"], "stream": "datrain.experiment.dataset_rng(base_seed, case)"}
    attrs = dio.provenance(rule=smk.rule, config_hash=dio.config_sha256(spec), seeds=seeds, parameters=spec)
    dio.write_netcdf(dio.dataset_to_xarray(data, {"case": spec["case"], **attrs}), smk.output[0])
    logging.info("wrote %s: %d training points, %d test points", smk.output[0], len(data.y_train), len(data.y_test))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 (injected by Snakemake)
