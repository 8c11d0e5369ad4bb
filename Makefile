# Set-up and developer commands. The README's two: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# uv comes from PATH, else from the Python that runs make (installed there with pip).
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
export UV_PYTHON_DOWNLOADS := never
HANDWRITTEN := overlay server scripts tests benchmarks
# The official Magic Hour SDK, in an environment of its own (its package is also named
# magic_hour): the tests check that it works against the local server.
OFFICIAL_SDK := $(VENV)/official-sdk
OFFICIAL_SDK_VERSION := 0.90.0
# The oldest versions pyproject.toml accepts (uv's lowest-direct resolution, in
# requirements/lowest-*.txt): the SDK alone, and with the server and contract extras.
LOWEST := $(VENV)/lowest
LOWEST_RESOLVE = $(UV) pip compile pyproject.toml --quiet \
	--resolution lowest-direct --upgrade --python-version 3.11 --no-header

# promtool checks the alert rules in deploy/prometheus; it comes from Debian's prometheus
# package, unpacked into .venv (no system install; apt-get download needs no root).
PROMTOOL := $(VENV)/prometheus/usr/bin/promtool

.PHONY: help install bytecode lowest-lock test-lowest check generate check-generated update-spec check-package lint format test test-suite demo drill bench bench-docs soak clean

help:  ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

install: $(VENV)/.installed $(OFFICIAL_SDK)/.installed  ## create .venv with the SDK, the server and the dev tools (from uv.lock)

# The venv is built on the very interpreter that runs `$(PYTHON)`, not whichever
# python3 uv would find first.
$(VENV)/.installed: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv \
		|| $(PYTHON) -m pip install --quiet --user uv
	$(UV) sync --frozen --all-extras --compile-bytecode --python "$$($(PYTHON) -c 'import sys; print(sys.executable)')"
	@touch $@

# Bytecode for the checkout's own modules too (uv writes it for the installed ones): the
# tests start many Python processes (servers, workers, the CLI), and where
# PYTHONDONTWRITEBYTECODE is set each would compile every module it imports anew, which
# was about half of a server's start-up.
bytecode: install
	@$(BIN)/python -m compileall -q -j 0 generated $(HANDWRITTEN) >/dev/null

$(OFFICIAL_SDK)/.installed: $(VENV)/.installed Makefile
	$(UV) venv --quiet --allow-existing --python "$(BIN)/python" $(OFFICIAL_SDK)
	$(UV) pip install --quiet --compile-bytecode --python $(OFFICIAL_SDK)/bin/python "magic-hour==$(OFFICIAL_SDK_VERSION)"
	@touch $@

$(PROMTOOL):
	@if command -v apt-get >/dev/null && command -v dpkg >/dev/null; then \
		mkdir -p $(VENV)/prometheus && cd $(VENV)/prometheus \
		&& { apt-get download -qq prometheus 2>/dev/null \
		     || { apt-get update -qq && apt-get download -qq prometheus; }; } \
		&& dpkg -x prometheus_*.deb . && rm -f prometheus_*.deb \
		|| echo "promtool: Debian's prometheus package could not be fetched; the alert rule tests say so"; \
	else \
		echo "promtool: no apt-get here; the alert rule tests say so (Debian's prometheus package ships it)"; \
	fi

lowest-lock: install  ## re-resolve requirements/lowest-*.txt at the lowest versions pyproject.toml accepts
	$(LOWEST_RESOLVE) requirements/test-tools.txt -o requirements/lowest-sdk.txt
	$(LOWEST_RESOLVE) requirements/test-tools-server.txt --extra server --extra contract --extra aiohttp \
		-o requirements/lowest-server.txt

# With the extras at their floors: the SDK against the real server (over aiohttp and through
# a user's own httpx client too), the CLI's unit tests (previews: Pillow), one whole CLI
# run and the contract command (schemathesis). The CLI's
# other end-to-end runs and the pytest plugin exercise the same libraries; they run at
# uv.lock's versions (the plugin also from the built wheel, in check-package).
LOWEST_SERVER_TESTS := tests/e2e tests/faults/test_aiohttp_transport.py \
	tests/faults/test_asyncio_transport.py \
	tests/faults/test_user_httpx_client.py tests/cli/test_detect_unit.py \
	tests/cli/test_outputs.py tests/cli/test_preview.py tests/cli/test_progress.py \
	tests/cli/test_report.py \
	tests/cli/test_cli_e2e.py::test_a_failing_input_does_not_stop_the_others \
	tests/cli/test_contract_command.py::test_the_embedded_server_keeps_the_contract

$(LOWEST)-%/.installed: requirements/lowest-%.txt $(VENV)/.installed
	$(UV) venv --quiet --allow-existing --python "$(BIN)/python" $(LOWEST)-$*
	$(UV) pip sync --quiet --compile-bytecode --python $(LOWEST)-$*/bin/python requirements/lowest-$*.txt
	$(UV) pip install --quiet --python $(LOWEST)-$*/bin/python --no-deps -e .
	@touch $@

test-lowest: $(LOWEST)-sdk/.installed $(LOWEST)-server/.installed  ## the SDK's unit tests with the base install alone; with the extras, the end-to-end tests, the CLI's unit tests, a run and its contract command; all at their lowest versions
	$(LOWEST)-sdk/bin/python -m pytest -q -p no:cacheprovider tests/unit
	$(LOWEST)-server/bin/python -m pytest -q -p no:cacheprovider -n 3 $(LOWEST_SERVER_TESTS)

generate: install  ## build openapi/face-detection.yaml (upstream + overlay), the client, docs/reference/
	$(BIN)/python -m scripts.apispec generate

check-generated: install  ## fail with a diff if the built document, generated/ or docs/reference/ is not what openapi/ gives
	$(BIN)/python -m scripts.apispec check

update-spec: install  ## vendor a new upstream document (FROM=file or URL), regenerate, report, release (NO_RELEASE=1: no version bump)
	@test -n "$(FROM)" || { echo "usage: make update-spec FROM=<file or URL of the upstream OpenAPI document>" >&2; exit 2; }
	$(BIN)/python -m scripts.apispec update "$(FROM)" $(if $(NO_RELEASE),--no-release)

lint: install  ## ruff check, ruff format --check, mypy --strict on handwritten code
	$(BIN)/ruff check $(HANDWRITTEN)
	$(BIN)/ruff format --check $(HANDWRITTEN)
	$(BIN)/mypy
	$(BIN)/openapi-spec-validator openapi/face-detection.yaml

format: install  ## apply ruff's fixes and formatting to handwritten code
	$(BIN)/ruff check --fix $(HANDWRITTEN)
	$(BIN)/ruff format $(HANDWRITTEN)

DEMO_OUT := outputs
DEMO_SAMPLES := $(DEMO_OUT)/samples/astronaut.png $(DEMO_OUT)/samples/group.jpg $(DEMO_OUT)/samples/two-people.mp4

demo: install  ## detect faces in sample photos and a video, on this machine; results in outputs/
	$(BIN)/python scripts/demo_samples.py $(DEMO_OUT)/samples
	$(BIN)/magic-hour detect --local --out $(DEMO_OUT) $(DEMO_SAMPLES)
	@echo "Look at $(DEMO_OUT)/group/preview.png and $(DEMO_OUT)/two-people/preview.png"

check-package: install  ## build the wheel and sdist, install the wheel in a fresh venv, use it from there
	UV="$(UV)" scripts/check-package

# Four pytest workers on two cores: much of the suite waits on servers and subprocesses.
# The five parts share the two cores: much of each waits on servers, subprocesses and
# disks, so they run side by side (each one's output kept together), pytest's own tests on
# three workers that steal work from each other, so that no long test ends the run alone.
test: install bytecode $(PROMTOOL)  ## the whole suite: lint, check-generated, the package, the lowest versions, pytest
	$(MAKE) --no-print-directory -j5 --output-sync=target \
		lint check-generated check-package test-lowest test-suite

test-suite: install
	$(BIN)/pytest -n 3 --dist worksteal

# The inner loop: what a change to the SDK, the CLI or the spec tooling most often breaks.
CHECK_TESTS := tests/unit tests/contract tests/spec/test_changes.py tests/spec/test_replay.py \
	tests/spec/test_overlay.py tests/spec/test_examples.py tests/cli/test_detect_unit.py \
	tests/cli/test_outputs.py tests/cli/test_preview.py tests/cli/test_progress.py \
	tests/cli/test_report.py tests/test_layout.py

check: install bytecode  ## the inner loop, about a minute: lint, then the unit, contract, spec and CLI unit tests
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest -q -n 2 $(CHECK_TESTS)

drill: install  ## the seven upstream changes of scripts/api_change_drill.py through update-spec and the tests (about 3 min)
	$(BIN)/pytest -q -m drill tests/spec/test_drill.py

bench: install  ## SDK overhead, latency, upload memory, throughput, detection speed, accuracy (ARGS="--only PART")
	scripts/bench $(ARGS)

bench-docs: install  ## quote a full bench run in README.md and docs/performance.md (RUN=bench-results.json records it first)
	$(BIN)/python -m benchmarks._docs $(RUN)

SOAK_ARGS ?= --clients 50 --duration 60
CHAOS_ARGS ?= --clients 20 --duration 60

soak: install  ## load for 60 s: one server (50 clients), then a cluster under chaos (20 clients, CHAOS_ARGS=...)
	$(BIN)/python -m tests.faults.soak $(SOAK_ARGS)
	$(BIN)/python -m tests.faults.chaos $(CHAOS_ARGS)

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
