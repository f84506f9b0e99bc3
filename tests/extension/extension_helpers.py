"""Constants shared by the extension tests and their fixtures."""

# Snakemake arguments selecting config/test.yaml with the sweeps in the default target (see conftest.py).
SWEEP_CONFIG = ("--configfile", "config/test_sweeps.yaml", "--replace-workflow-config")
