# An explicitly requested aggregate of an incomplete set of runs, e.g. after
# `snakemake --keep-going` with failed jobs:
#   snakemake --cores 1 partial_tables
# It combines only the run files that exist now (it never trains), enters every
# absent run as status "missing" (listed in the cube's `missing_runs` attribute and
# in the tables' notes), and writes under results/partial/ so that it can never be
# mistaken for results/summary.nc, which `aggregate` builds from every run or not at all.


localrules:
    partial_aggregate,
    partial_tables,


rule partial_aggregate:
    input:
        runs=present_run_files,
    output:
        summary="results/partial/summary.nc",
    params:
        expected=expected_runs(),
        config=config,
        config_sha256=CONFIG_SHA256,
    log:
        "logs/partial/aggregate.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/aggregate.py"


rule partial_tables:
    input:
        summary="results/partial/summary.nc",
    output:
        csv="results/partial/tables/comparison.csv",
        md="results/partial/tables/comparison.md",
        tex="results/partial/tables/comparison.tex",
    params:
        baseline=config["analysis"]["baseline"],
        confidence=config["analysis"]["confidence"],
    log:
        "logs/partial/tables.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/tables.py"
