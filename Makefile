# Every target creates or reuses the virtualenv in .venv from pyproject.toml.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed
PG15   ?= /usr/lib/postgresql/15/bin

.PHONY: reliability help venv migrate status rollback new check lint rules-table test test-pg15 test-migrations lint-code bench bench-quick clean

help:
	@echo "make migrate | status | rollback | new name=NAME | check | lint | test | test-pg15 | test-migrations | lint-code | bench | bench-quick"

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "sqlmig needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

migrate: $(STAMP)
	$(BIN)/sqlmig up

status: $(STAMP)
	$(BIN)/sqlmig status

rollback: $(STAMP)
	$(BIN)/sqlmig down

new: $(STAMP)
	@test -n "$(name)" || { echo "usage: make new name=add_something"; exit 2; }
	$(BIN)/sqlmig new $(name)

# The pre-commit/CI guard on the working tree: applied migrations unchanged, file rules, lint.
check: $(STAMP)
	$(BIN)/sqlmig check --worktree

# Lint the default target's migrations (rules: sqlmig explain).
lint: $(STAMP)
	$(BIN)/sqlmig lint

# Regenerate the lint rule table of README.md from sqlmig/lint/rules/ (after adding a rule).
rules-table: $(STAMP)
	$(BIN)/python -c 'from pathlib import Path; from sqlmig.lint.explain import update_readme; update_readme(Path("README.md"))'

# The whole suite, against the embedded PostgreSQL 18 (or SQLMIG_TEST_DSN / Docker if present).
test: $(STAMP)
	$(BIN)/python -m pytest -q

# The same suite against the distribution's PostgreSQL 15, when it is installed.
test-pg15: $(STAMP)
	SQLMIG_PG_BINDIR=$(PG15) $(BIN)/python -m pytest -q

# Round-trip the example migrations on a scratch database of the embedded PostgreSQL: up,
# down and up again for each, exit 1 when a down does not reverse its up.
test-migrations: $(STAMP)
	$(BIN)/sqlmig test

# Run the reliability scenarios and regenerate RELIABILITY.md from their results.
reliability: $(STAMP)
	$(BIN)/python -m tests.reliability.report

lint-code: $(STAMP)
	$(BIN)/ruff check sqlmig tests
	$(BIN)/ruff format --check sqlmig tests
	$(BIN)/mypy --strict sqlmig tests

# Benchmarks against dbmate, yoyo-migrations, squawk, psql and a psycopg loop (bench/run.py):
# bench writes BENCHMARKS.md (about 6 minutes on 2 cores); bench-quick is a smaller smoke run.
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python bench/run.py --output BENCHMARKS.md

bench-quick: $(BENCH_STAMP)
	$(BIN)/python bench/run.py --quick

clean:
	-$(BIN)/sqlmig db stop
	rm -rf $(VENV) .sqlmig
