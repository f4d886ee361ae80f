# Two commands on a fresh machine with Python 3.11: `make demo` and `make test`.
# Both create (or reuse) .venv and install the pinned dependencies first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LIVE := $(VENV)/.live-installed

.PHONY: demo test live lint format bench bench-frameworks clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

# vn.py's trading core and CTP gateway for `twotier live`, without the Qt GUI (see
# requirements-live.txt): --no-deps, and vnpy_ctp built from source with pinned tools.
$(LIVE): $(STAMP) requirements-live.txt requirements-build.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -r requirements-build.txt
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pip install --quiet --disable-pip-version-check \
		--no-deps --no-build-isolation -c constraints.txt -r requirements-live.txt
	touch $(LIVE)

live: $(LIVE)

demo: $(STAMP)
	$(BIN)/twotier demo

test: $(STAMP) $(LIVE) lint
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# backtrader and vn.py's CTA backtester for bench/bench_frameworks.py: pyproject's `bench`
# extra, with --no-deps (vnpy_ctastrategy declares vnpy, whose own declared dependencies
# include the Qt GUI); the extra lists every package they import. Not part of `make test`.
BENCH := $(VENV)/.bench-installed
$(BENCH): $(LIVE) pyproject.toml constraints.txt
	$(BIN)/python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['bench'], sep='\n')" > $(VENV)/bench-requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -c constraints.txt -r $(VENV)/bench-requirements.txt
	touch $(BENCH)

bench-frameworks: $(BENCH)
	$(BIN)/python bench/bench_frameworks.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache
