# The README's two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Reinstall only when what we depend on changed: re-running `make install` is instant.
# The agency plugins are packages of their own (plugins/*), installed editable beside it.
PLUGINS := $(wildcard plugins/*/pyproject.toml)
DEPS   := pyproject.toml $(PLUGINS)

.PHONY: install run test lint bench clean

install: $(STAMP)

$(STAMP): $(DEPS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required (found %s)" % sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres]' $(foreach p,$(PLUGINS),-e $(dir $(p)))
	@touch $(STAMP)

run: install
	$(BIN)/jamsos db upgrade
	$(BIN)/jamsos demo load
	$(BIN)/jamsos serve --host 127.0.0.1 --port 8000

test: install
	$(BIN)/ruff check gateway tests bench plugins
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# `make bench` (ingest) or `make bench BENCH=api`; pandas is the ingest baseline, bench-only.
bench: install
	$(BIN)/python -m pip install --quiet 'pandas>=2'
	$(BIN)/python bench/$(or $(BENCH),ingest).py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
