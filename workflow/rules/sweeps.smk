# Sensitivity sweeps (config["sweeps"], datrain.sweeps): their own target,
#   snakemake --cores 8 sweeps
# and part of rule all only if sweeps.in_default_target is true. One job per
# (sweep, grid point, case, method) trains that point for every sweep seed with a
# plain Python script (the notebook's datrain.experiment calls, no kernel start).
# Helpers: extension_common.smk.

rule sweeps:
    # Every sweep's cube, table and figure.
    input:
        sweep_outputs(),


rule sweep_dataset:
    output:
        "data/sweeps/{sweep}/{point}/{case}.nc",
    params:
        dataset=sweep_dataset_parameters,
    log:
        "logs/sweeps/dataset/{sweep}/{point}/{case}.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/make_dataset.py"


rule sweep_run:
    input:
        dataset=sweep_dataset,
    output:
        run=SWEEP_RUN,
    params:
        job=sweep_job,
    log:
        "logs/sweeps/{sweep}/{point}/{case}/{method}.log",
    benchmark:
        "benchmarks/sweeps/{sweep}/{point}/{case}/{method}.tsv"
    threads: 1
    resources:
        runtime=30,
        mem_mb=1000,
    conda:
        CONDA_ENV
    script:
        "../scripts/sweep_run.py"


rule sweep_aggregate:
    input:
        runs=sweep_run_files,
    output:
        cube="results/sweeps/{sweep}.nc",
    params:
        jobs=sweep_keys,
        points=sweep_points,
        spec=sweep_spec,
    log:
        "logs/sweeps/aggregate_{sweep}.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/sweep_aggregate.py"


rule sweep_report:
    input:
        cube="results/sweeps/{sweep}.nc",
        references=sweep_references,
    output:
        csv=report(
            "results/tables/sweep_{sweep}.csv",
            caption="../report/sweep_table.rst",
            category="Sweeps",
            subcategory="{sweep}",
            labels={"sweep": "{sweep}", "type": "table (CSV)"},
        ),
        md="results/tables/sweep_{sweep}.md",
        png=report(
            "results/figures/sweep_{sweep}.png",
            caption="../report/sweep_figure.rst",
            category="Sweeps",
            subcategory="{sweep}",
            labels={"sweep": "{sweep}", "type": "figure"},
        ),
        pdf="results/figures/sweep_{sweep}.pdf",
    params:
        references=sweep_reference_methods,
        seeds=config["sweeps"]["seeds"],
        confidence=config["analysis"]["confidence"],
        bootstrap_seed=config["analysis"]["bootstrap_seed"],
    log:
        "logs/sweeps/report_{sweep}.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/sweep_report.py"
