# datrain replication pipeline: synthetic data -> one papermill notebook per
# (case, method, seed) -> run NetCDF -> summary cube -> tables, figures, report.
#   snakemake --cores 8                         everything (config/config.yaml)
#   snakemake --report results/report.html      the HTML report afterwards
#   snakemake --cores 8 sweeps                  the sensitivity sweeps (config: sweeps)
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/extension_common.smk"
include: "workflow/rules/extension.smk"
include: "workflow/rules/sweeps.smk"
include: "workflow/rules/partial.smk"


localrules:
    all,
    dataset,
    aggregate,
    tables,
    figure_fit,
    figure_learning_curves,
    figure_parameter_spread,
    figure_final_rmse,
    equal_budget,
    calibration,
    claims,
    sweeps,
    sweep_dataset,
    sweep_aggregate,
    sweep_report,


rule all:
    input:
        final_outputs(),
        extension_outputs(),
    default_target: True
