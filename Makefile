# Sentry Stacks - one entry point for setup, tests, lint, the demo and benchmarks.
SHELL := /bin/bash
ROOT := $(abspath .)
VENV := $(ROOT)/venv
PY := $(VENV)/bin/python
export PATH := $(ROOT)/tools/bin:$(VENV)/bin:$(PATH)
# Pulumi: file backend inside the repo, passphrase secrets, no update checks or plugin downloads.
export PULUMI_BACKEND_URL ?= file://$(ROOT)/state
export PULUMI_CONFIG_PASSPHRASE_FILE ?= $(ROOT)/state/passphrase
export PULUMI_SKIP_UPDATE_CHECK := true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION := true
export PULUMI_HOME ?= $(ROOT)/state/pulumi-home
# The CLI's Go garbage collector: less often (GOGC, default 100), within a soft memory limit; about 15 % less CLI CPU
# in a change of 201 objects, where it collects the garbage of every checkpoint save (docs/benchmarks.md)
export GOGC ?= 400
export GOMEMLIMIT ?= 1GiB

.PHONY: setup venv pulumi pulumi-yaml sdk docker images browser sentry-cli state packages test test-fast lint schema demo demo-down bench clean

setup: venv pulumi pulumi-yaml state docker images browser sentry-cli ## everything the tests and the demo need

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml packages/python/pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -m pip install -q --no-build-isolation -e packages/python
	touch $@

packages: venv ## the runtime packages: dist/sentry_stacks_runtime-*.whl and dist/sentry-stacks-runtime-*.tgz
	scripts/build-packages

pulumi: venv ## the Pulumi CLI (yours if >= 3.274 is on PATH, else built from Go modules)
	VENV_PY=$(PY) scripts/install-pulumi >/dev/null
	pulumi version

pulumi-yaml: pulumi ## Pulumi's YAML language host (pulumi-language-yaml v1.25.0 from Go modules, cached per user)
	scripts/install-pulumi-yaml >/dev/null

sdk: venv ## the provider's Python SDK (pulumi_sentrystacks) from its schema into build/sdk/python (LANGUAGE=nodejs|go)
	VENV_PY=$(PY) scripts/build-sdk $(or $(LANGUAGE),python)

sentry-cli: ## the real sentry-cli (npm @sentry/cli, pinned) that tests run against localsentry, cached per user
	scripts/install-sentry-cli >/dev/null

state: ## the local file backend and its passphrase (generated once, mode 0600, git-ignored)
	@mkdir -p state/pulumi-home && chmod 700 state
	@test -s state/passphrase || (umask 077 && $(PY) -c 'import secrets; print(secrets.token_urlsafe(32))' > state/passphrase)

docker: ## a Docker engine that answers (installs and starts one on Debian as root)
	scripts/docker-engine

images: docker packages ## the local base image and the reference app's images
	scripts/build-images

browser: ## headless Chromium for the browser tests (Debian package)
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && export DEBIAN_FRONTEND=noninteractive && { apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }; }; } || echo "install chromium (apt-get install chromium) for the browser tests"

test: setup ## the whole test suite (unit, sentry, program, e2e)
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-fast: venv state ## unit, sentry, program and runtime-package tiers only
	$(PY) -m pytest -q tests/unit tests/sentry tests/program tests/runtime $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check . scripts/demo scripts/rotate-dsn scripts/render-env scripts/verify-alerts scripts/langhost/pulumi-language-python scripts/langhost/pulumi-resource-pulumi-python
	$(VENV)/bin/mypy infra localsentry
	$(VENV)/bin/mypy --strict packages/python/src/sentry_stacks_runtime
	$(PY) -m infra.settings.schema --check
	$(PY) -m infra.provider.schema --check

schema: venv ## regenerate the editor schema, the README's configuration reference and the provider's schema
	$(PY) -m infra.settings.schema
	$(PY) -m infra.provider.schema

demo: setup ## bring up the dev stack on the embedded localsentry (or your Sentry)
	$(PY) scripts/demo up

demo-down:
	$(PY) scripts/demo down

bench: setup ## benchmarks; writes docs/benchmarks.md
	$(PY) bench/run_all.py

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache
