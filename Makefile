# MarketFinder: `make run` fetches live and runs the chain; `make test` runs the whole suite.
# Both create or refresh .venv first, so a fresh clone needs nothing else than Python 3.11+.

PYTHON ?= python3
VENV ?= .venv
PARAMS ?= params/default.yaml
SET ?=
HOST ?= 127.0.0.1
PORT ?= 8787
PYTEST_ARGS ?=

BIN := $(VENV)/bin
STAMP := $(VENV)/.mflib-installed

.PHONY: run test lab bench serve notebooks lint clean-venv

# The stamp is older than pyproject.toml when dependencies changed, and missing when the venv was
# deleted or never built; a venv whose python no longer starts (moved, or Python upgraded) is rebuilt.
$(STAMP): pyproject.toml
	@if ! $(BIN)/python -c "import sys" >/dev/null 2>&1; then \
		echo "creating $(VENV) with $(PYTHON)"; rm -rf $(VENV); $(PYTHON) -m venv $(VENV); fi
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (MarketFinder)" >/dev/null
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python run_pipeline.py --params $(PARAMS) $(foreach s,$(SET),--set $(s))

# One pytest session for the unit tests and the notebooks (nbval runs each notebook with its
# default parameters, offline, in file order), so the closing line counts both.
test: $(STAMP)
	$(BIN)/python -m pytest -q tests notebooks --nbval-lax --nbval-current-env $(PYTEST_ARGS)

lab: $(STAMP)
	$(BIN)/pip install --quiet "jupyterlab>=4.2"
	$(BIN)/jupyter lab notebooks/

bench: $(STAMP)
	$(BIN)/python bench/bench_matching.py
	$(BIN)/python bench/real_titles.py
	$(BIN)/python bench/dev_pairs_edges.py

serve: $(STAMP)
	$(BIN)/python -m mflib.status_api --host $(HOST) --port $(PORT) --params $(PARAMS)

notebooks: $(STAMP)
	$(BIN)/python scripts/build_notebooks.py

lint: $(STAMP)
	$(BIN)/ruff check mflib tests bench scripts run_pipeline.py

clean-venv:
	rm -rf $(VENV)
