# Every target installs what it needs first (uv, then the locked environment in .venv).
# Bytecode is compiled ahead of time: with PYTHONDONTWRITEBYTECODE set, every process
# (tests start many) would otherwise compile every module it imports.
PYTHON ?= python3
UV_VERSION := 0.13.9
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
CONFIG ?= config/default.toml

.PHONY: install serve test lint bench format clean

install: $(STAMP)

$(STAMP): pyproject.toml uv.lock
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"
	$(PYTHON) -m uv sync --frozen --all-extras --compile-bytecode --python $(PYTHON)
	@touch $(STAMP)

SOURCES := runtime actors tests bench examples

serve: install
	@$(PY) -m compileall -q $(SOURCES)
	$(PY) -m runtime serve $(CONFIG)

test: install
	@$(PY) -m compileall -q $(SOURCES)
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

bench: install
	@for b in bench/[!_]*.py; do $(PY) -m bench.$$(basename $$b .py) --quick || exit 1; done

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
