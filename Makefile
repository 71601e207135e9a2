# zfish: a local lakehouse emulator. `make help` lists the targets.
#
# The two commands a user types on a fresh machine are `make simulate DAY=...`
# and `make test`; both create `.venv` when it is missing or older than
# pyproject.toml.

.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV        := .venv
STAMP       := $(VENV)/.zfish-installed
PY          := $(VENV)/bin/python
ZFISH       := $(VENV)/bin/zfish
# Prefer an explicit python3.11; fall back to python3 and let check-python judge it.
PYTHON      ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)

# Shared settings; the CLI also reads these environment variables itself.
export ZFISH_DATA ?= ./data/synthetic_data
export ZFISH_LAKE ?= ./lake

DAY  ?=
SEED ?= 42
UNTIL ?= $(DAY)
BENCH_ARGS ?=
# make test's pytest workers (pytest-xdist): two fit these 2-core machines and 24 GiB.
TEST_WORKERS ?= 2
WRITER ?=

.PHONY: help check-python check-java venv bundle simulate generate upload crawl etl serve walkthrough lint chromium test bench notebooks clean distclean

help: ## Show this help
	@echo "zfish: local lakehouse emulator (S3 lake, Glue crawler, Spark ETL into Apache Hudi, Athena SQL)"
	@echo
	@echo "Usage: make <target> [DAY=YYYY-MM-DD]"
	@echo
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-12s %s\n", $$1, $$2}'
	@echo
	@echo "Settings (environment): ZFISH_DATA=$(ZFISH_DATA)  ZFISH_LAKE=$(ZFISH_LAKE)"

check-python: ## Check that Python 3.11 is available
	@if [ -z "$(PYTHON)" ]; then \
	  echo "error: Python 3.11 is required but no python3.11 or python3 was found on PATH." >&2; \
	  echo "  fix: install it (Debian/Ubuntu: apt-get install python3.11 python3.11-venv; macOS: brew install python@3.11; or pyenv install 3.11)" >&2; \
	  exit 1; fi
	@v=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	if [ "$$v" != "3.11" ]; then \
	  echo "error: zfish needs Python 3.11 (AWS Glue 5.0 parity); $(PYTHON) is Python $$v." >&2; \
	  echo "  fix: install Python 3.11 and run again, or point make at it: make PYTHON=/path/to/python3.11 ..." >&2; \
	  exit 1; fi

check-java: ## Check that a Java 17 runtime is available (Spark needs it)
	@if ! command -v java >/dev/null 2>&1; then \
	  echo "error: Spark needs a Java 17 runtime and 'java' is not on PATH." >&2; \
	  echo "  fix: install it (Debian/Ubuntu: apt-get install openjdk-17-jre-headless; macOS: brew install openjdk@17) or set JAVA_HOME and PATH." >&2; \
	  exit 1; fi
	@v=$$(java -version 2>&1 | awk -F'"' '/version/ {print $$2; exit}' | cut -d. -f1); \
	if [ "$$v" != "17" ]; then \
	  echo "error: Spark 3.5 (AWS Glue 5.0) is run here on Java 17; 'java' reports major version '$$v'." >&2; \
	  echo "  fix: install a Java 17 runtime (apt-get install openjdk-17-jre-headless) and put it first on PATH or set JAVA_HOME." >&2; \
	  exit 1; fi

$(STAMP): pyproject.toml | check-python
	@echo "==> bootstrapping $(VENV) (first run or pyproject.toml changed)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# uv installs the same packages as pip, in parallel (pip took ~100 s of a fresh make test);
	@# where uv cannot be had or run, pip does it.
	@{ $(PY) -m pip install --quiet --disable-pip-version-check 'uv>=0.9,<1' && \
	  $(VENV)/bin/uv pip install --quiet --python $(PY) --compile-bytecode -e '.[test]'; } || \
	  { echo "==> uv failed; installing with pip"; \
	    $(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'; }
	@touch $(STAMP)
	@echo "==> $(VENV) ready"

venv: $(STAMP) ## Create or refresh the virtual environment

bundle: $(STAMP) check-java ## Get the JVM Hudi bundle (hudi-spark3.5-bundle_2.12:0.15.0) into ~/.cache/zfish once
	$(ZFISH) bundle

simulate: $(STAMP) check-java ## Simulate one evening: generate (if needed), upload, crawl, ETL. DAY=YYYY-MM-DD [WRITER=spark-hudi]
	@if [ -z "$(DAY)" ]; then echo "error: DAY is required, e.g. make simulate DAY=2025-05-11" >&2; exit 2; fi
	$(ZFISH) simulate --day $(DAY) $(if $(WRITER),--writer $(WRITER),)

generate: $(STAMP) ## Generate the synthetic zebra fish study into $ZFISH_DATA
	$(ZFISH) generate --seed $(SEED)

upload: $(STAMP) ## Upload day partitions strictly before UNTIL (or DAY) into the lake
	@if [ -z "$(UNTIL)" ]; then echo "error: UNTIL is required, e.g. make upload UNTIL=2025-05-10" >&2; exit 2; fi
	$(ZFISH) upload --until $(UNTIL)

crawl: $(STAMP) ## Run the crawler: register partitions present in the lake
	$(ZFISH) crawl

etl: $(STAMP) check-java ## Run the Spark ETL job into the Hudi table (END=YYYY-MM-DDTHH:MM:SS, WRITER=spark-hudi optional)
	$(ZFISH) etl $(if $(END),--end-date $(END),) $(if $(WRITER),--writer $(WRITER),)

serve: $(STAMP) ## Serve the lake as an AWS endpoint (S3, STS) on http://127.0.0.1:4566 until Ctrl-C (PORT=...)
	$(ZFISH) serve $(if $(PORT),--port $(PORT),)

walkthrough: $(STAMP) check-java ## The seed's AWS walkthrough with the aws CLI against zfish serve over a fresh lake
	@command -v jq >/dev/null || { echo "error: the walkthrough needs jq (Debian/Ubuntu: apt-get install jq; macOS: brew install jq)" >&2; exit 5; }
	@test -d $(ZFISH_DATA)/observations || $(ZFISH) generate --seed $(SEED)
	@set -e; work=$$(mktemp -d); trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null; rm -rf $$work' EXIT; \
	  $(ZFISH) --lake $$work/lake serve --port 0 > $$work/serve.log 2>&1 & pid=$$!; \
	  for i in $$(seq 100); do grep -q AWS_ENDPOINT_URL= $$work/serve.log && break; sleep 0.1; done; \
	  eval "$$(grep -o 'export AWS_ENDPOINT_URL=.*' $$work/serve.log)"; \
	  PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash examples/seed_walkthrough.sh $(ZFISH_DATA)

lint: $(STAMP) ## ruff + mypy (strict on the package)
	$(VENV)/bin/ruff check zfish awsglue etl tests benchmarks
	$(VENV)/bin/ruff format --check zfish awsglue etl tests benchmarks
	$(VENV)/bin/mypy

chromium: ## Install Debian's chromium for the console's browser tests, only when /usr/bin/chromium is missing
	@# Playwright's own browser download is not reachable: its tests drive this one. Where apt
	@# cannot install it, they skip and say why; on CI (CI=true) they fail.
	@test -x /usr/bin/chromium || { echo "==> installing chromium (the console's browser tests)"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "warning: could not install chromium (apt-get install -y chromium); the console's browser tests will skip" >&2; }

test: $(STAMP) check-java lint chromium ## Lint, get the Hudi bundle, chromium, run the whole test suite (Spark, JVM Hudi, notebooks, the console)
	@# Offline, the JVM Hudi tests skip and say why; on CI (CI=true) a missing bundle fails.
	@$(ZFISH) bundle >/dev/null || [ -z "$$CI$$ZFISH_REQUIRE_HUDI_BUNDLE" ]
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --durations=25

bench: $(STAMP) ## Benchmarks: ratios against baselines measured in the same run (BENCH_ARGS=--quick)
	$(PY) -m benchmarks $(BENCH_ARGS)

notebooks: $(STAMP) check-java ## Execute both notebooks against a freshly simulated small lake
	$(PY) -m zfish.ml.notebooks --output build/notebooks

clean: ## Remove generated data, the lake and outputs (keeps .venv)
	rm -rf build lake aws-lake data .pytest_cache .mypy_cache .ruff_cache spark-warehouse metastore_db derby.log

distclean: clean ## Also remove the virtual environment
	rm -rf $(VENV)
