# The two commands of the README: `make demo` and `make test`. Both bootstrap
# .venv on a fresh machine (the only step that needs the package registries).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: install demo test typecheck lint format bench bench-full models services browser fonts clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# axe-core from npm (pinned by its lock file) for the browser tests' accessibility scan.
AXE := tests/web/axe/node_modules/axe-core/axe.min.js
$(AXE): tests/web/axe/package.json tests/web/axe/package-lock.json
	npm ci --prefix tests/web/axe --no-audit --no-fund
	touch $(AXE)

# Debian's chromium for the browser tests (Playwright drives it; no browser download).
browser: $(AXE)
	@bash scripts/ensure-chromium.sh

# Debian's fonts the PDF recap embeds (Latin, CJK, Korean, emoji; nothing fetched at run time).
fonts:
	@bash scripts/ensure-fonts.sh

# PostgreSQL and Redis: start them if this machine has them and they are down.
services:
	@bash scripts/ensure-services.sh

demo: install fonts
	$(VENV)/bin/hubbub demo

# The tests mostly wait (uvicorn servers, CLI subprocesses, loopback servers,
# Chromium): pytest used about 17% of a CPU, so the suite runs in pytest-xdist
# workers, more than the 2 cores. --dist loadfile keeps each file on one worker, so
# a module's server and browser start once. `make test TEST_WORKERS=0` runs serially.
TEST_WORKERS ?= 4
# Tests marked `serial` (kills at random moments, wall-clock deadlines) run
# after the parallel pass, alone, so other workers' load cannot bend them.
test: typecheck browser fonts services
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not serial"
	$(PY) -m pytest -q -m serial

# mypy over src/hubbub and the bench/ scripts (the list and settings: pyproject.toml,
# [tool.mypy]); `make test` runs it first.
typecheck: install
	$(VENV)/bin/mypy

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

format: install
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

# The quick versions of every benchmark (under 10 minutes); `make bench-full` runs the
# long ones (the 1,000,000-post search corpus, 50,000-post imports, 30 s room runs).
bench: install services
	$(PY) -m pip install -q -e '.[dev,train]'
	$(PY) bench/import.py --quick
	$(PY) bench/match.py --quick
	$(PY) bench/classify.py --runs 3
	$(PY) bench/search.py --quick
	$(PY) bench/room_latency.py --quick
	$(PY) bench/ingest.py --quick

bench-full: install services
	$(PY) -m pip install -q -e '.[dev,train]'
	$(PY) bench/import.py
	$(PY) bench/match.py --long
	$(PY) bench/classify.py --runs 5
	$(PY) bench/search.py --full
	$(PY) bench/room_latency.py
	$(PY) bench/ingest.py

# Retrain the classifiers from ../shared/data (needs the optional `train` extra).
models: install
	$(PY) -m pip install -q -e '.[dev,train]'
	$(PY) -m hubbub.classify.train

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis build dist src/*.egg-info
