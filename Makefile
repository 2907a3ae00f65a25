# The same commands the README and CI use. `make serve` and `make test` set everything up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-$(shell cat requirements/runtime.txt pyproject.toml | sha1sum | cut -c1-12)
DEV_STAMP := $(VENV)/.dev-$(shell cat requirements/dev.txt pyproject.toml | sha1sum | cut -c1-12)
PIP := $(BIN)/python -m pip install --disable-pip-version-check -q

.PHONY: serve test lint bench lock services clean screenshots

serve: $(RUNTIME_STAMP)
	$(BIN)/horae serve

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): requirements/runtime.txt pyproject.toml | $(VENV)/bin/python
	$(PIP) -r requirements/runtime.txt
	$(PIP) --no-deps -e .
	touch $@

$(DEV_STAMP): requirements/dev.txt pyproject.toml | $(VENV)/bin/python
	$(PIP) -r requirements/dev.txt
	$(PIP) --no-deps -e .
	touch $@

# Installs and starts PostgreSQL, Redis and Chromium (Debian packages) and the Node SDK, on loopback.
services:
	bash scripts/test-services.sh

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src
	$(BIN)/lint-imports

test: $(DEV_STAMP) services
	$(MAKE) lint
	source .test-services/env && $(BIN)/python -m pytest

bench: $(DEV_STAMP)
	$(BIN)/python bench/oauth.py
	$(BIN)/python bench/events.py
	$(BIN)/python bench/availability.py
	$(BIN)/python bench/sync.py
	$(BIN)/python bench/sequencing.py
	$(BIN)/python bench/booking.py

# PNGs of the booking page and of Cronofy's UI Elements on Horae, desktop and phone width, into docs/screenshots/.
screenshots: $(DEV_STAMP) services
	source .test-services/env && $(BIN)/python scripts/screenshots_booking.py
	source .test-services/env && $(BIN)/python scripts/screenshots_elements.py

# Re-pin the dependency locks from pyproject.toml.
lock: | $(VENV)/bin/python
	$(PIP) pip-tools
	$(BIN)/pip-compile -q --strip-extras --no-header --no-emit-index-url -o requirements/runtime.txt pyproject.toml
	$(BIN)/pip-compile -q --strip-extras --no-header --no-emit-index-url --extra dev -o requirements/dev.txt pyproject.toml

clean:
	rm -rf $(VENV) .test-services .pytest_cache .mypy_cache .ruff_cache
