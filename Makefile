# One entry point for people and CI. A fresh machine needs python3, Node.js/npm and apt-get (for chromium
# and graphviz); everything else is installed here.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
WEB := webapp
WEB_DEPS := $(WEB)/node_modules/.installed
WEB_BUILD := $(WEB)/dist/index.html
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/public $(WEB)/index.html $(WEB)/vite.config.ts $(WEB)/tsconfig*.json \
	-type f 2>/dev/null)
# Debian packages: the browser the end-to-end tests drive, and graphviz for `ops diagram`.
SYSTEM_COMMANDS := /usr/bin/chromium /usr/bin/dot
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Two workers: much of the end-to-end suite waits on replication lag, so the two cores overlap well.
PYTEST_ARGS ?= -n 2

.PHONY: setup system web test test-web lint preview demo bench clean help

help:
	@echo "make demo     run both regions locally (sandbox) and print the URL and credentials"
	@echo "make test     run the whole test suite (Python, web app unit tests, browser tests)"
	@echo "make lint     ruff"
	@echo "make preview  the program's resources per region, from an offline mock run"
	@echo "make bench    sandbox benchmarks (cold start, switch, replication lag, web app size, 20 failover drills)"
	@echo "make setup    .venv with the pinned dependencies, the built web app, chromium and graphviz"

setup: $(STAMP) system web

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt -c constraints.txt
	touch $@

system:
	@missing=""; for cmd in $(SYSTEM_COMMANDS); do test -x $$cmd || missing=1; done; \
	if [ -n "$$missing" ]; then \
		echo "installing chromium and graphviz with apt-get"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium graphviz \
			fonts-dejavu-core >/dev/null; \
	fi

web: $(WEB_BUILD)

$(WEB_DEPS): $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(WEB_BUILD): $(WEB_DEPS) $(WEB_SOURCES)
	cd $(WEB) && npm run build --silent

test: setup
	cd $(WEB) && npm test --silent
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

preview: $(STAMP)
	$(PY) -m harness.preview --stack prod

demo: setup
	$(PY) -m sandbox up

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .sandbox $(WEB)/node_modules $(WEB)/dist
