# Two commands set up and exercise everything on a fresh Debian/Ubuntu machine:
#   make demo   - the walkthrough on the local sandbox (installs what it needs)
#   make test   - lint, type checks and the whole test suite (installs what it needs)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages the sandbox runs: the real registry and the real notary server/CLI.
SYSTEM_PACKAGES := docker-registry notary
SYSTEM_BINARIES := /usr/bin/docker-registry /usr/bin/notary-server /usr/bin/notary
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all venv sysdeps lint format test demo bench fuzz schema clean

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

sysdeps:
	@missing=""; for b in $(SYSTEM_BINARIES); do [ -x "$$b" ] || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $(SYSTEM_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; \
	fi

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: sysdeps venv lint
	$(BIN)/pytest -q

demo: sysdeps venv
	$(BIN)/python -m acr_reconcile.demo

bench: sysdeps venv
	$(BIN)/python -m benchmarks

fuzz: venv
	$(BIN)/pip install --quiet atheris
	$(BIN)/python -m tests.fuzz

schema: venv
	$(BIN)/acr-reconcile schema > specs/acr-reconcile.schema.json

clean:
	rm -rf $(VENV) .sandbox .mypy_cache .ruff_cache .pytest_cache
