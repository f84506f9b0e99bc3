rule train:
    # One papermill notebook per (case, method, seed). The rendered notebook is a
    # log, so it survives a failure; the template is an input, so editing it reruns.
    input:
        dataset="data/{case}.nc",
        notebook="notebooks/train.ipynb",
    output:
        run="results/runs/{case}/{method}/seed{seed}.nc",
    params:
        run=run_parameters,
    log:
        notebook="results/notebooks/{case}/{method}/seed{seed}.ipynb",
        stderr="logs/train/{case}/{method}/seed{seed}.log",
    benchmark:
        "benchmarks/train/{case}/{method}/seed{seed}.tsv"
    threads: 1
    retries: 1  # parallel kernel starts can race for ZMQ ports (snakemake #3689)
    resources:
        runtime=20,
        mem_mb=1000,
    conda:
        CONDA_ENV
    script:
        "../scripts/run_notebook.py"
