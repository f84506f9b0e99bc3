# Beyond the paper (issue 5): equal-budget comparison, calibration and the claims
# table, all drawn from results/summary.nc (and, if the sweeps are part of the
# default target, from the sweep cubes). Helpers: extension_common.smk.

rule equal_budget:
    input:
        summary="results/summary.nc",
    output:
        csv=report(
            "results/tables/equal_budget.csv",
            caption="../report/equal_budget_table.rst",
            category="Beyond the paper",
            subcategory="Equal budget",
            labels={"type": "table (CSV)"},
        ),
        md="results/tables/equal_budget.md",
        png=report(
            "results/figures/equal_budget.png",
            caption="../report/equal_budget_figure.rst",
            category="Beyond the paper",
            subcategory="Equal budget",
            labels={"type": "figure"},
        ),
        pdf="results/figures/equal_budget.pdf",
    params:
        budget=config["analysis"]["budget"],
        baseline=config["analysis"]["baseline"],
        confidence=config["analysis"]["confidence"],
        bootstrap_seed=config["analysis"]["bootstrap_seed"],
    log:
        "logs/extension/equal_budget.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/equal_budget.py"


rule calibration:
    input:
        summary="results/summary.nc",
    output:
        csv=report(
            "results/tables/calibration.csv",
            caption="../report/calibration_table.rst",
            category="Beyond the paper",
            subcategory="Calibration",
            labels={"type": "table (CSV)"},
        ),
        md="results/tables/calibration.md",
        png=report(
            "results/figures/calibration.png",
            caption="../report/calibration_figure.rst",
            category="Beyond the paper",
            subcategory="Calibration",
            labels={"type": "figure"},
        ),
        pdf="results/figures/calibration.pdf",
    params:
        confidence=config["analysis"]["confidence"],
        bootstrap_seed=config["analysis"]["bootstrap_seed"],
    log:
        "logs/extension/calibration.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/calibration.py"


rule claims:
    input:
        summary="results/summary.nc",
        sweeps=claims_sweep_cubes,
    output:
        csv=report(
            "results/tables/claims.csv",
            caption="../report/claims_table.rst",
            category="Claims",
            labels={"type": "detail (CSV)"},
        ),
        md=report(
            "results/tables/claims.md",
            caption="../report/claims_md.rst",
            category="Claims",
            labels={"type": "summary (Markdown)"},
        ),
    params:
        baseline=config["analysis"]["baseline"],
        confidence=config["analysis"]["confidence"],
        budget=config["analysis"]["budget"],
        claims=config["analysis"]["claims"],
        trainer_only=claims_sweep_kinds,
    log:
        "logs/extension/claims.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/claims_table.py"
