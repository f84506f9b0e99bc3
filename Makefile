# Two entry points for a fresh machine (see README):
#   make run   - create .venv from the pinned lock and run the whole pipeline (snakemake --cores 8)
#   make test  - create .venv from the pinned lock and run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CORES  ?= 8

.PHONY: run test bench report clean-results

$(BIN)/.installed: envs/requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r envs/requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

run: $(BIN)/.installed
	$(BIN)/snakemake --cores $(CORES)
	$(BIN)/snakemake --report results/report.html

test: $(BIN)/.installed
	$(BIN)/pytest -q

bench: $(BIN)/.installed
	$(BIN)/python -m bench

clean-results:
	rm -rf results logs benchmarks data/*.nc
