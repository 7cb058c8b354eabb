# Everything a fresh Debian machine needs is installed by these targets.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
CHROMIUM ?= /usr/bin/chromium
CHECKOV_VENV := .venv-checkov

.PHONY: install demo test lint unit e2e browser bench clean lambda-zip checkov

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -m venv --help >/dev/null 2>&1 && $(PYTHON) -c 'import ensurepip' 2>/dev/null \
		|| (apt-get update -qq && apt-get install -y -qq python3-venv python3-pip)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

# `make demo PORT=8080` serves it on another port (8000 by default).
demo: install
	$(BIN)/sendsongs demo $(if $(PORT),--port $(PORT))

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

# Debian's Chromium for the browser test (Playwright's own browser download is not used).
browser:
	@test -x $(CHROMIUM) || (command -v apt-get >/dev/null \
		&& (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium could not be installed: the browser test will be skipped")

test: install lint browser $(CHECKOV_VENV)/.installed
	$(BIN)/pytest -q

unit: install
	$(BIN)/pytest -q tests/unit tests/service tests/contract tests/adapters tests/sandbox

e2e: install
	$(BIN)/pytest -q tests/e2e

# Figures for docs/benchmarks.md (about 10 minutes); fails only if something was lost.
bench: install
	PYTHONPATH=. $(PY) benchmarks/all.py

# The Lambda deployment package: this project's wheel and its '[aws]' dependencies, as wheels
# for Lambda's python3.12 on arm64 (nothing is compiled here), zipped at the archive root.
LAMBDA_PLATFORMS := --platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64

lambda-zip: install
	rm -rf build/lambda build/lambda-wheel dist/lambda.zip
	$(PY) -m pip wheel -q --no-deps -w build/lambda-wheel .
	$(PY) -m pip install -q --target build/lambda $(LAMBDA_PLATFORMS) --implementation cp \
		--python-version 3.12 --only-binary=:all: --upgrade \
		"$$(ls build/lambda-wheel/sendsongs-*.whl)[aws]"
	find build/lambda -name __pycache__ -type d -prune -exec rm -rf {} +
	mkdir -p dist
	cd build/lambda && $(abspath $(PY)) -m zipfile -c $(CURDIR)/dist/lambda.zip .
	@ls -l dist/lambda.zip

# checkov pins many packages of its own, so it gets its own virtual environment.

$(CHECKOV_VENV)/.installed:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install -q 'checkov>=3.3,<4'
	@touch $@

checkov: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/checkov -d deploy/terraform --quiet --compact --skip-download

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache .mypy_cache .ruff_cache
