# datrain replication pipeline: synthetic data -> one papermill notebook per
# (case, method, seed) -> run NetCDF -> summary cube -> tables, figures, report.
#   snakemake --cores 8                         everything (config/config.yaml)
#   snakemake --report results/report.html      the HTML report afterwards
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


localrules:
    all,
    dataset,
    aggregate,
    tables,
    figure_fit,
    figure_learning_curves,
    figure_parameter_spread,
    figure_final_rmse,


rule all:
    input:
        final_outputs(),
    default_target: True
