# Two targets a newcomer needs: `make up` (the local fleet) and `make test` (everything CI runs).
# Both set up what they need first, from nothing but python3 (3.11+), node 20 and npm.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# `make up PORT=18080 DATA_DIR=/tmp/fleet`: passed to `mcpfleet up` when given (PORT=0: any
# free port, printed). Unset, `mcpfleet up` uses 127.0.0.1:8080 and .mcpfleet/ (or
# MCPFLEET_DATA_DIR).
PORT     ?=
DATA_DIR ?=
UP_FLAGS := $(if $(PORT),--port $(PORT)) $(if $(DATA_DIR),--data-dir $(DATA_DIR))

.PHONY: up test lint setup clean

up: setup
	$(BIN)/mcpfleet up $(UP_FLAGS)

test: setup lint
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check --no-cache .
	$(BIN)/lint-imports
	$(BIN)/mypy

setup: $(STAMP) .ci/npm/node_modules/.installed

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

.ci/npm/node_modules/.installed: .ci/npm/package.json
	@if [ -f .ci/npm/package-lock.json ]; then npm ci --prefix .ci/npm --no-audit --no-fund --loglevel=error; \
	else npm install --prefix .ci/npm --no-audit --no-fund --loglevel=error; fi
	touch $@

clean:
	rm -rf $(VENV) .ci/npm/node_modules .mcpfleet out
