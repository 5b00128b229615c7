# The two commands a new user types: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install system-deps lint bench bench-downloads bench-all clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

## Serve the portal and the API on http://127.0.0.1:8000 with demo data (embedded SQLite).
run: $(STAMP)
	$(BIN)/partnerdesk serve --demo

## Install what the tests need (PostgreSQL, PgBouncer, Chromium) when missing, then run the whole suite
## in parallel: one pytest-xdist worker per core (`make test PYTEST_WORKERS=0` runs it in one process).
PYTEST_WORKERS ?= auto
test: $(STAMP) system-deps
	PARTNERDESK_REQUIRE_POSTGRES=1 PARTNERDESK_REQUIRE_BROWSER=1 $(BIN)/pytest -n $(PYTEST_WORKERS)

system-deps:
	bash scripts/install-system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

## Checkout throughput beside the constant and naive-INSERT baselines, on SQLite and PostgreSQL (needs wrk).
bench: $(STAMP) system-deps
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(BIN)/python bench/checkout_bench.py

## Download links: redemptions of a 1 MiB file beside the constant, insert and nginx baselines, MB/s of a
## 2 GiB file beside nginx, and the server's memory, on SQLite and PostgreSQL (needs wrk, nginx, curl).
bench-downloads: $(STAMP) system-deps
	command -v wrk >/dev/null && command -v nginx >/dev/null || (apt-get update && apt-get install -y wrk nginx curl)
	$(BIN)/python bench/downloads_bench.py --seconds 8 --rounds 3 --engines sqlite,postgresql

## Every workload on SQLite and PostgreSQL in one table (rate, p50, p99, errors, peak memory, CPU per request,
## ratio to the constant endpoint), a 512 MiB file beside nginx, then the issues' targets beside the
## figures (needs wrk, nginx, curl; see bench/README.md).
bench-all: $(STAMP) system-deps
	command -v wrk >/dev/null && command -v nginx >/dev/null || (apt-get update && apt-get install -y wrk nginx curl)
	$(BIN)/python bench/suite.py --seconds 8 --engines sqlite,postgresql

clean:
	rm -rf $(VENV) data .pytest_cache
