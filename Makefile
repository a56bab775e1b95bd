# The README's two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Reinstall only when what we depend on changed: re-running `make install` is instant.
# The agency plugins are packages of their own (plugins/*), installed editable beside it. The
# Celery and Kubernetes executors' extras are installed too: tests/airflow/test_deploy.py loads
# them (the gateway itself needs neither).
PLUGINS := $(wildcard plugins/*/pyproject.toml)
DEPS   := pyproject.toml $(PLUGINS)

.PHONY: install run test lint bench clean airflow

install: $(STAMP)

$(STAMP): $(DEPS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required (found %s)" % sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres,airflow,celery,kubernetes]' $(foreach p,$(PLUGINS),-e $(dir $(p)))
	@touch $(STAMP)

run: install
	$(BIN)/jamsos db upgrade
	$(BIN)/jamsos demo load
	$(BIN)/jamsos serve --host 127.0.0.1 --port 8000

test: install
	$(BIN)/ruff check gateway tests bench plugins dags
	$(BIN)/lint-imports --no-cache --no-logo  # the layer contracts of pyproject.toml
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Airflow 3 (scheduler, DAG processor, triggerer, API server and UI on
# http://$(AIRFLOW_HOST):$(AIRFLOW_PORT), loopback by default: `make airflow AIRFLOW_PORT=8090`)
# on an embedded SQLite metadata DB in instance/airflow, scheduling the project's dags/ against
# the demo agencies: their drop folders and the demo SOAP service, kept alive by
# gateway.demo.feeds (which writes the sources file the DAGs and tasks read); see
# scripts/airflow-demo.sh. Ctrl-C stops all.
AIRFLOW_DIR := $(CURDIR)/instance/airflow
AIRFLOW_HOST ?= 127.0.0.1
AIRFLOW_PORT ?= 8080
airflow: install
	$(BIN)/jamsos db upgrade
	$(BIN)/jamsos demo load
	@mkdir -p $(AIRFLOW_DIR)
	@AIRFLOW_HOME=$(AIRFLOW_DIR) AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags \
	AIRFLOW__CORE__LOAD_EXAMPLES=False AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False \
	AIRFLOW__CORE__PARALLELISM=4 AIRFLOW__API__HOST=$(AIRFLOW_HOST) AIRFLOW__API__PORT=$(AIRFLOW_PORT) \
	AIRFLOW__CORE__EXECUTION_API_SERVER_URL=http://$(AIRFLOW_HOST):$(AIRFLOW_PORT)/execution/ \
	JAMSOS_INSTANCE_PATH=$(CURDIR)/instance JAMSOS_SOURCES_FILE=$(AIRFLOW_DIR)/sources.toml \
	JAMSOS_TARGETS_FILE=$(CURDIR)/config/targets.toml JAMSOS_RATES_DIR=$(CURDIR)/config/rates \
	PATH=$(CURDIR)/$(BIN):$$PATH sh scripts/airflow-demo.sh $(CURDIR)/$(BIN)

# `make bench` (ingest) or `make bench BENCH=api`; pandas is the ingest baseline, bench-only.
bench: install
	$(BIN)/python -m pip install --quiet 'pandas>=2'
	$(BIN)/python bench/$(or $(BENCH),ingest).py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
