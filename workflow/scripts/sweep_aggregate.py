"""Rule `sweep_aggregate`: stack the files of one sweep into results/sweeps/{sweep}.nc.

Dims (point, case, method, seed, iteration, ...); each grid parameter is a
coordinate on `point` (datrain.sweeps.combine_points).
"""
import logging

from datrain import io as dio
from datrain import sweeps

from joblog import redirect_to_log


def main(smk):
    redirect_to_log(smk.log[0])
    files = dict(zip(smk.params.jobs, smk.input.runs))
    values = dict(smk.params.points)
    pieces = [(point, values[point], dio.read_netcdf(files[(point, case, method)]))
              for point, case, method in smk.params.jobs]
    cube = sweeps.combine_points(pieces)
    spec = smk.params.spec
    cube.attrs = dio.provenance(rule=smk.rule, config_hash=dio.config_sha256(spec), parameters=spec,
                                seeds={"base_seed": spec["base_seed"], "seeds": spec["seeds"]})
    cube.attrs["sweep"] = smk.wildcards.sweep
    cube.attrs["trainer_only"] = str(spec["trainer_only"]).lower()
    dio.write_netcdf(cube, smk.output.cube)
    logging.info("wrote %s: %d points x %d cases x %d methods x %d seeds; status %s", smk.output.cube,
                 cube.sizes["point"], cube.sizes["case"], cube.sizes["method"], cube.sizes["seed"],
                 cube["status"].to_series().value_counts().to_dict())


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 (injected by Snakemake)
