# Every target bootstraps its own virtual environment (venv/, the one Pulumi.yaml names).
PYTHON ?= python3
VENV := venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: help venv test lint typecheck check local clean

help:
	@echo "make local   deploy the dev stack into an embedded AWS emulator, verify it, destroy it"
	@echo "make test    run the whole test suite (mocks and emulator)"
	@echo "make lint    ruff and mypy"

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -W error::pytest.PytestReturnNotNoneWarning

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

check: lint test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
