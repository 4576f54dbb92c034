# Two commands set up and exercise everything on a fresh Debian/Ubuntu machine:
#   make demo   - the walkthrough on the local sandbox (installs what it needs)
#   make test   - lint, type checks and the whole test suite (installs what it needs)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages the sandbox runs: the real registry, the real notary server/signer/CLI
# and MariaDB (where notary keeps trust data across restarts); skopeo is a peer client of
# the emulator's tests (containers/image, as podman/buildah); glibc's myhostname NSS
# module resolves *.localhost (the Key Vault data plane's <vault>.vault.localhost
# hostnames) to loopback.
SYSTEM_PACKAGES := docker-registry notary mariadb-server-core mariadb-client-core skopeo \
	libnss-myhostname
SYSTEM_BINARIES := /usr/bin/docker-registry /usr/bin/notary-server /usr/bin/notary-signer \
	/usr/bin/notary /usr/sbin/mariadbd /usr/bin/mariadb-install-db /usr/bin/mariadb /usr/bin/skopeo
# a name only the myhostname module resolves
LOCALHOST_PROBE := probe.vault.localhost
# The az CLI, a real client the emulator's peer tests drive; its own venv so its many
# pinned dependencies never meet the tool's.
AZ_VENV := .venv-az
AZ_STAMP := $(AZ_VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all venv az-cli sysdeps lint format test demo bench fuzz schema lock lock-az clean \
	interop-notation

all: test

# The tool and its emulator are two distributions; make installs both, at the versions
# in requirements.lock (pyproject.toml only states compatible ranges).
$(STAMP): pyproject.toml sandbox/pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]' -e ./sandbox
	touch $(STAMP)

venv: $(STAMP)

# Idempotent: the stamp is newer than the lock once the pinned az CLI is installed.
$(AZ_STAMP): requirements-az.lock
	$(PYTHON) -m venv $(AZ_VENV)
	$(AZ_VENV)/bin/pip install --quiet --upgrade pip
	$(AZ_VENV)/bin/pip install --quiet -r requirements-az.lock
	touch $(AZ_STAMP)

az-cli: $(AZ_STAMP)

# Idempotent: installs only what is missing. The package's maintainer script puts
# "myhostname" on the hosts: line of /etc/nsswitch.conf; where that line was edited by
# hand (or the package was already installed without it), it is added after "files".
sysdeps:
	@missing=""; for b in $(SYSTEM_BINARIES); do [ -x "$$b" ] || missing=1; done; \
	getent hosts $(LOCALHOST_PROBE) >/dev/null || missing=1; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $(SYSTEM_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; \
	fi
	@if ! getent hosts $(LOCALHOST_PROBE) >/dev/null; then \
	  if ! grep -qE '^hosts:.*[[:space:]]myhostname([[:space:]]|$$)' /etc/nsswitch.conf; then \
	    echo "adding myhostname to the hosts: line of /etc/nsswitch.conf"; \
	    $(SUDO) sed -i -E '/^hosts:/ s/([[:space:]])files([[:space:]]|$$)/\1files myhostname\2/' /etc/nsswitch.conf; \
	  fi; \
	  getent hosts $(LOCALHOST_PROBE) >/dev/null || { \
	    echo "sysdeps: $(LOCALHOST_PROBE) does not resolve; the hosts: line of /etc/nsswitch.conf needs 'myhostname'" >&2; exit 1; }; \
	fi

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The tool's tests, then the emulator's (each its own pytest project; its peer tests run
# the az CLI from .venv-az). The slowest tests are listed at the end, so a run that grows
# says where.
test: sysdeps venv az-cli lint
	$(BIN)/pytest -q --durations=15
	cd sandbox && ../$(BIN)/pytest -q --durations=5

demo: sysdeps venv
	$(BIN)/python -m acr_reconcile.demo

bench: sysdeps venv
	$(BIN)/python -m benchmarks

fuzz: venv
	$(BIN)/pip install --quiet atheris
	$(BIN)/python -m tests.fuzz

# Our Notation verifier on envelopes notation made (notation-go's test data, not in this
# repository): ACR_RECONCILE_NOTATION_VECTORS=<notation-go checkout> make interop-notation
interop-notation: venv
	$(BIN)/python -m benchmarks._notation_interop

schema: venv
	$(BIN)/acr-reconcile schema > specs/acr-reconcile.schema.json

# Re-resolve the lock in a throw-away venv from the ranges in both pyproject files.
lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install --quiet '.[dev]' ./sandbox
	{ echo "# The exact versions make and CI install (pip install -c requirements.lock ...)."; \
	  echo "# pyproject.toml states the compatible ranges; regenerate this with 'make lock'."; \
	  .lockvenv/bin/pip freeze --exclude-editable | grep -v '^acr-reconcile'; } > requirements.lock
	rm -rf .lockvenv

# Re-resolve the az CLI's lock (AZ_CLI_VERSION is the one pin to change).
AZ_CLI_VERSION ?= 2.91.0
lock-az:
	rm -rf .lockvenv-az && $(PYTHON) -m venv .lockvenv-az
	.lockvenv-az/bin/pip install --quiet azure-cli==$(AZ_CLI_VERSION)
	{ echo "# The az CLI the peer tests drive (sandbox/tests/peer/), installed by 'make az-cli' into"; \
	  echo "# its own test-only venv (.venv-az): exact versions, regenerate with 'make lock-az'."; \
	  .lockvenv-az/bin/pip freeze | sort -f; } > requirements-az.lock
	rm -rf .lockvenv-az

clean:
	rm -rf $(VENV) $(AZ_VENV) .sandbox .mypy_cache .ruff_cache .pytest_cache
