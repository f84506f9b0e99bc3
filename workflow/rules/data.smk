rule dataset:
    # One synthetic dataset per case, shared by every run of the case; its random
    # stream is keyed on (base_seed, case) only.
    output:
        "data/{case}.nc",
    params:
        dataset=dataset_parameters,
    log:
        "logs/dataset/{case}.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/make_dataset.py"
