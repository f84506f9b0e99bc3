"""Rule `aggregate`: combine every run file into results/summary.nc."""
import logging

from datrain import io as dio

from joblog import redirect_to_log


def main(smk):
    redirect_to_log(smk.log[0])
    config = smk.params.config
    seeds = {"base_seed": config["base_seed"], "seeds": config["seeds"]}
    attrs = dio.provenance(rule=smk.rule, config_hash=smk.params.config_sha256, seeds=seeds, parameters=config)
    cube = dio.combine_runs(dio.load_runs(smk.input.runs), smk.params.expected, attrs)
    dio.write_netcdf(cube, smk.output.summary)
    status = cube["status"].to_series().value_counts().to_dict()
    logging.info("wrote %s from %d run files; status counts %s", smk.output.summary, len(smk.input.runs), status)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 (injected by Snakemake)
