# Two entry points for a fresh machine: `make run` (the app) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run

.PHONY: run test lint bench clean dist dist-check deb

# `make run` installs the app alone (no compiler needed); `make test` adds the dev tools.
$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	$(BIN)/python packaging/fetch_encodings.py
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# Exit status 3 means "no display here": the app said so and how to use the CLI instead.
run: $(RUN_STAMP)
	@$(BIN)/promptready $(ARGS) || [ $$? -eq 3 ]

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# The suite mostly waits on subprocesses, sockets and fsync, so it runs on more worker processes
# than cores (pytest-xdist). `--dist loadgroup` keeps the tests marked
# `pytest.mark.xdist_group(NAME)` on one worker (they share a costly module fixture or cache).
# `make test TEST_WORKERS=0` runs it in this process, one test at a time.
TEST_WORKERS ?= 3

# Bytecode caches on even where the environment turns them off (PYTHONDONTWRITEBYTECODE=1): without
# them each worker compiles and assert-rewrites every test module (collection 10.9 -> 6.1 CPU s per
# process) and each of the suite's subprocesses compiles the app's modules again.
test: $(STAMP) lint
	PYTHONDONTWRITEBYTECODE= QT_QPA_PLATFORM=offscreen PROMPTREADY_TEST_REQUIRE_POSTGRES=1 $(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup

bench: $(STAMP)
	for b in bench/*_bench.py; do $(BIN)/python $$b || exit 1; done

# The one-folder bundle (PROMPTREADY_ONEFILE=1 for one file); pyinstaller comes with the dev extra.
dist: $(STAMP)
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN build.spec

# Slow, so not part of `make test`: build, then run the bundle's self-test read-only and offline.
dist-check: dist
	packaging/check_bundle.sh dist/PromptReady

deb: dist
	packaging/linux/build_deb.sh dist/PromptReady dist

clean:
	rm -rf $(VENV) build dist .mypy_cache .pytest_cache .ruff_cache
