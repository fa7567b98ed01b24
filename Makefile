# Two commands for a fresh machine: `make demo` (install + run the main job) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install install-test install-bench demo test test-all check lint typecheck bench bench-web bench-api bench-scale screenshots fuzz fuzz-ci bench-load bench-extract clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[entities]"

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"

# Prints the sample digest, then serves the reading room on the same sample sources (Ctrl-C stops).
demo: install
	$(BIN)/newsdesk demo
	$(BIN)/newsdesk serve --demo

lint:
	$(BIN)/ruff check src tests benchmarks fuzz
	$(BIN)/ruff format --check src tests benchmarks fuzz

typecheck:
	$(BIN)/mypy

check: lint typecheck

test: install-test check
	$(BIN)/pytest -q -m "not slow"

test-all: install-test check
	$(BIN)/pytest -q

install-bench: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test,bench]"

bench: install-bench  # first and unchanged refresh of 1,000 feeds, side by side with reader
	$(BIN)/python benchmarks/bench_refresh.py

bench-extract: install-bench  # full text against trafilatura and readability-lxml on ../shared/corpora
	$(BIN)/python benchmarks/bench_extract.py

bench-web: install-bench  # river/category/entry/search latency on 1,000,000 entries; then 50 people
	$(BIN)/python benchmarks/bench_web.py
	$(BIN)/python benchmarks/bench_web.py --teams

bench-api: install-bench
	$(BIN)/python benchmarks/bench_api.py

bench-scale: install-bench  # 10,000 feeds: SQLite, PostgreSQL, Celery with 1, 2 and 4 workers
	$(BIN)/python benchmarks/bench_scale.py

screenshots: install-test  # docs/screenshots/*.png, through the browser tests
	NEWSDESK_SCREENSHOTS=1 $(BIN)/pytest -q tests/web/test_browser.py

FUZZ_SECONDS ?= 600
FUZZ_FLAGS ?= -max_total_time=$(FUZZ_SECONDS)
HYPOTHESIS_FLAGS ?=
fuzz: install-test  # hypothesis properties with many examples, then atheris on parse_feed
	$(BIN)/pip install --quiet atheris
	NEWSDESK_HYPOTHESIS_PROFILE=explore NEWSDESK_FUZZ_EXAMPLES=2000 $(BIN)/pytest -q tests/fuzz $(HYPOTHESIS_FLAGS)
	mkdir -p fuzz/corpus && cd fuzz && $(CURDIR)/$(BIN)/python fuzz_parse_feed.py corpus $(FUZZ_FLAGS) -rss_limit_mb=2048 -timeout=30

# CI's short run is deterministic (fixed seeds, a fixed number of runs): a commit fuzzes the same
# inputs every time; `make fuzz` explores freely.
fuzz-ci:
	PYTHONHASHSEED=0 $(MAKE) fuzz FUZZ_FLAGS="-runs=10000 -seed=1" HYPOTHESIS_FLAGS="--hypothesis-seed=0"

bench-load: install-bench  # pages and API under load while a refresh runs (wrk)
	$(BIN)/python benchmarks/bench_load.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache

.PHONY: bench-conformance
bench-conformance: install-bench  # feedparser's test suite against Newsdesk's parser (../shared/corpora)
	$(BIN)/python benchmarks/bench_conformance.py
