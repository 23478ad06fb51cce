# Two commands on a fresh machine (Python >= 3.11 and make): `make run`, `make test`.
# Everything else installs itself: uv into .tools/, the locked dependencies into .venv/.

PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 2024
# Runs the in-memory server executes at once (its own default is 1, which makes every chat wait
# for the one before it); why 256: docs/configuration.md.
JOBS ?= 256
# RELOAD=1 restarts the server when a graph changes (off: a reload drops running streams).
RELOAD ?=
PROXY_PORT ?= 8000
LANGGRAPH_URL ?= http://$(HOST):$(PORT)

VENV := .venv
BIN := $(VENV)/bin
UV := .tools/bin/uv
UV_VERSION := 0.13.8

# Offline, quiet: no analytics, no version check, no tracing, no browser.
export LANGGRAPH_CLI_NO_ANALYTICS := 1
export LANGGRAPH_NO_VERSION_CHECK := true
export LANGSMITH_TRACING := false
export UV_PYTHON_DOWNLOADS := never

.PHONY: help install run proxy test unit_tests integration_tests lint format validate bench load clean stack stack-venv test-stack stack-bench stack-lock

help:
	@echo "make run       serve the graphs + Studio API + OpenAI API (/v1) on http://$(HOST):$(PORT)"
	@echo "make test      install and run lint + the whole test suite"
	@echo "make proxy     run the proxy standalone on :$(PROXY_PORT) against LANGGRAPH_URL"
	@echo "make bench     measure the proxy against the direct SDK (docs/benchmark.md)"
	@echo "make load      the full load figures, 200 concurrent streams (docs/load.md)"
	@echo "make stack     the production topology on one machine: Postgres, Redis, servers, proxies"
	@echo "make test-stack  its test tier; make stack-bench measures it (docs/stack.md)"
	@echo "make lint | format | validate | unit_tests | integration_tests | clean"

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --python $(PYTHON)
	@touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/langgraph dev --no-browser $(if $(RELOAD),,--no-reload) --host $(HOST) --port $(PORT) --n-jobs-per-worker $(JOBS)

proxy: install
	LANGGRAPH_URL=$(LANGGRAPH_URL) PROXY_PORT=$(PROXY_PORT) $(BIN)/python -m proxy

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

validate: install
	$(BIN)/langgraph validate

unit_tests: install
	$(BIN)/pytest tests/unit_tests

integration_tests: install
	$(BIN)/pytest tests/integration_tests

# OPENWEBUI_TESTS=1: Open WebUI in Chromium too (tests/openwebui_tests; installs both itself)
test: lint
	OPENWEBUI_TESTS=1 $(BIN)/pytest -m "not load"

bench: install
	$(BIN)/python -m bench

load: install
	$(BIN)/pytest -m load -p no:cacheprovider

clean:
	rm -rf .venv .tools .pytest_cache .ruff_cache

# The production topology on one machine (stack/, docs/stack.md): Postgres + Redis of its own,
# the stock langgraph-api on the open runtime (langhost) in several processes, proxies in front.
# Its environment is its own (.tools/stack-venv, from stack/requirements.txt): `make run` keeps
# its versions. STACK_ARGS: `make stack STACK_ARGS="--servers 3 --queue-workers 1"` (--help).
STACK_VENV := .tools/stack-venv
STACK_ARGS ?=

stack-venv: install
	$(BIN)/python -m stack.venv

stack: stack-venv
	$(STACK_VENV)/bin/python -m stack $(STACK_ARGS)

test-stack: stack-venv
	$(STACK_VENV)/bin/pytest tests/stack_tests -p no:cacheprovider

stack-bench: stack-venv
	$(STACK_VENV)/bin/python -m stack.measure

stack-lock: install
	$(UV) pip compile pyproject.toml stack/requirements.in --extra proxy --universal \
		--python-version 3.11 --custom-compile-command "make stack-lock" -o stack/requirements.txt
