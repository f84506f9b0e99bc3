# Every figure is drawn from results/summary.nc only, as PNG (in the report) and PDF.


rule figure_fit:
    input:
        summary="results/summary.nc",
    output:
        png=report(
            "results/figures/fit_{case}.png",
            caption="../report/fit.rst",
            category="Figures",
            subcategory="Fits",
            labels={"case": "{case}"},
        ),
        pdf="results/figures/fit_{case}.pdf",
    params:
        seed=SEEDS[0],
        bootstrap_seed=config["analysis"]["bootstrap_seed"],
    log:
        "logs/figures/fit_{case}.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/figures.py"


rule figure_learning_curves:
    input:
        summary="results/summary.nc",
    output:
        step_png=report(
            "results/figures/learning_curves_step.png",
            caption="../report/learning_curves_step.rst",
            category="Figures",
            subcategory="Learning curves",
            labels={"x": "step"},
        ),
        step_pdf="results/figures/learning_curves_step.pdf",
        cost_png=report(
            "results/figures/learning_curves_cost.png",
            caption="../report/learning_curves_cost.rst",
            category="Figures",
            subcategory="Learning curves",
            labels={"x": "forward evaluations"},
        ),
        cost_pdf="results/figures/learning_curves_cost.pdf",
    params:
        bootstrap_seed=config["analysis"]["bootstrap_seed"],
    log:
        "logs/figures/learning_curves.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/figures.py"


rule figure_parameter_spread:
    input:
        summary="results/summary.nc",
    output:
        png=report(
            "results/figures/parameter_spread.png",
            caption="../report/parameter_spread.rst",
            category="Figures",
            subcategory="Uncertainty",
        ),
        pdf="results/figures/parameter_spread.pdf",
    params:
        bootstrap_seed=config["analysis"]["bootstrap_seed"],
    log:
        "logs/figures/parameter_spread.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/figures.py"


rule figure_final_rmse:
    input:
        summary="results/summary.nc",
    output:
        png=report(
            "results/figures/final_test_rmse.png",
            caption="../report/final_test_rmse.rst",
            category="Figures",
            subcategory="Final error",
        ),
        pdf="results/figures/final_test_rmse.pdf",
    params:
        bootstrap_seed=config["analysis"]["bootstrap_seed"],
    log:
        "logs/figures/final_test_rmse.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/figures.py"
