#!/usr/bin/env bash
# Run by Snakemake in the workflow directory after creating envs/environment.yaml:
# make the datrain package of this checkout importable in the conda environment.
set -euo pipefail
python -m pip install --no-deps -e .
