# One command each: `make demo` sets up and runs the analysis on the built-in demo recording;
# `make test` sets up and runs the tests (what .ci/run calls).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: setup demo test lint gui bench package smoke

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/canns-asa demo --out demo-out

test: $(STAMP)
	$(BIN)/ruff check core canns_gui tests benchmarks
	$(BIN)/python -m pytest -q

gui: $(STAMP)
	$(BIN)/canns-gui

bench: $(STAMP)
	$(BIN)/python benchmarks/asa_vs_canns.py

package: $(STAMP)
	packaging/build.sh

smoke: $(STAMP)
	packaging/smoke_test.sh
