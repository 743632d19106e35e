# One entry point for people and CI. A fresh machine needs only python3 (and apt for the browser tests).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: setup test lint preview demo bench clean help

help:
	@echo "make demo     run both regions locally (sandbox) and print the URL and credentials"
	@echo "make test     run the whole test suite"
	@echo "make lint     ruff"
	@echo "make preview  the program's resources per region, from an offline mock run"
	@echo "make bench    sandbox benchmarks (cold start, failover switch, replication lag)"
	@echo "make setup    create $(VENV) with the pinned dependencies"

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt -c constraints.txt
	touch $@

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .

preview: setup
	$(PY) -m harness.preview --stack prod

demo: setup
	$(PY) -m sandbox up

bench: setup
	$(PY) -m sandbox.bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .sandbox
