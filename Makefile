# Everything a fresh Debian machine needs is installed by these targets.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
CHROMIUM ?= /usr/bin/chromium

.PHONY: install demo test lint unit e2e browser bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -m venv --help >/dev/null 2>&1 && $(PYTHON) -c 'import ensurepip' 2>/dev/null \
		|| (apt-get update -qq && apt-get install -y -qq python3-venv python3-pip)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

demo: install
	$(BIN)/sendsongs demo

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

test: install lint browser
	$(BIN)/pytest -q

unit: install
	$(BIN)/pytest -q tests/unit tests/service tests/contract tests/adapters tests/sandbox

e2e: install
	$(BIN)/pytest -q tests/e2e

bench: install
	PYTHONPATH=. $(PY) benchmarks/run.py
	PYTHONPATH=. $(PY) benchmarks/detection_delay.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
