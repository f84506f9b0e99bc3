rule aggregate:
    # All runs on one cube; reruns whenever the resolved configuration changes.
    input:
        runs=run_files(),
    output:
        summary="results/summary.nc",
    params:
        expected=expected_runs(),
        config=config,
        config_sha256=CONFIG_SHA256,
    log:
        "logs/aggregate.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/aggregate.py"


rule tables:
    input:
        summary="results/summary.nc",
    output:
        csv=report(
            "results/tables/comparison.csv",
            caption="../report/table_comparison.rst",
            category="Tables",
        ),
        md=report(
            "results/tables/comparison.md",
            caption="../report/table_comparison_md.rst",
            category="Tables",
        ),
        tex="results/tables/comparison.tex",
    params:
        baseline=config["analysis"]["baseline"],
        confidence=config["analysis"]["confidence"],
    log:
        "logs/tables.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/tables.py"
