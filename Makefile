# Every target bootstraps its own virtual environment (venv/, the one Pulumi.yaml names).
PYTHON ?= python3
VENV := venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: help venv test lint typecheck check local clean bench diagram docs lint-workflows

help:
	@echo "make local   deploy the dev bootstrap and pipeline stacks into an embedded AWS emulator,"
	@echo "             verify both, destroy both (STACK=prod for another stack, KEEP=1 to explore first)"
	@echo "make test    run the whole test suite (mocks and emulator)"
	@echo "make lint    ruff and mypy"
	@echo "make lint-workflows  zizmor and the schema checks of .github/, offline"
	@echo "make bench   time the test suite, evaluation and emulator; count resources; price the idle stacks"
	@echo "make diagram regenerate the architecture diagram (docs/architecture.md) from the dev stack's resource graph"
	@echo "make docs    regenerate docs/configuration.md from Pulumi.yaml's key descriptions"

# The first target of a fresh clone builds venv/ (about a minute). A line per step, and pip without
# --quiet, which lists each package as it collects it. pip's install phase prints nothing until it is
# done (15-20 s here for each half), so the program's packages and the tools are installed apart.
$(STAMP): requirements.txt requirements-dev.txt
	@echo "==> 1/3 creating $(VENV)/ with $(PYTHON) (first run, or a requirements file changed)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> 2/3 installing the program's packages (requirements.txt) into $(VENV)/"
	$(PY) -m pip install --disable-pip-version-check -r requirements.txt
	@echo "==> 3/3 installing the test, lint and emulator tools (requirements-dev.txt) into $(VENV)/"
	$(PY) -m pip install --disable-pip-version-check -r requirements-dev.txt
	@echo "==> $(VENV)/ is ready; later runs skip these steps until a requirements file changes"
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -W error::pytest.PytestReturnNotNoneWarning

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

# GitHub Actions workflows and Dependabot config, offline: zizmor's audits, then the schemas
# check-jsonschema vendors (the workflow syntax, a timeout on every job, dependabot.yml).
WORKFLOWS := $(wildcard .github/workflows/*.yml)

lint-workflows: $(STAMP)
	$(VENV)/bin/zizmor --offline --strict-collection --no-progress .
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)
	$(VENV)/bin/check-jsonschema --builtin-schema custom.github-workflows-require-timeout $(WORKFLOWS)
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml

check: lint test

# Bootstrap stack STACK, then pipeline stack STACK, deployed into moto (for prod the bootstrap in its own
# target account), both verified, destroyed pipeline first: `make local STACK=prod`, `make local KEEP=1`.
STACK ?= dev
KEEP ?=
local: $(STAMP)
	$(PY) -m emulator --stack $(STACK)$(if $(KEEP), --keep)

bench: $(STAMP)
	$(PY) -m benchmarks.bench $(BENCH_ARGS)

diagram: $(STAMP)
	$(PY) -m tools.diagram

docs: $(STAMP)
	$(PY) -m tools.config_docs

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
